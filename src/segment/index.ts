export * from './record';
export {
  MAGIC,
  FORMAT_VERSION,
  FILE_HEADER_SIZE,
  BLOCK_HEADER_SIZE,
  Codec,
  DEFAULT_BLOCK_BYTES,
  MAX_ZSTD_RAW_BYTES,
  MAX_BLOCK_RAW_BYTES,
  encodeRecord,
  decodeRecords,
} from './format';
export { SegmentWriter, type SegmentWriterOptions, type SegmentStats, type SegmentSink } from './writer';
export { readSegment, readSegmentBuffer, type ReadSegmentOptions, type SegmentReadSummary } from './reader';
export { DEFAULT_LEVEL as DEFAULT_ZSTD_LEVEL, MIN_LEVEL as MIN_ZSTD_LEVEL, MAX_LEVEL as MAX_ZSTD_LEVEL, zstdInputLimit } from './zstd';
