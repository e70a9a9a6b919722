// The only door to kafkajs: the wire patch must load first (see wire-patch.ts), and every
// client kbak builds must decode every codec a producer may have used (see codecs.ts).
import './wire-patch';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { asKafkajsCodec, codecs } from './codecs';

CompressionCodecs[CompressionTypes.GZIP] = asKafkajsCodec(codecs.gzip);
CompressionCodecs[CompressionTypes.Snappy] = asKafkajsCodec(codecs.snappy);
CompressionCodecs[CompressionTypes.LZ4] = asKafkajsCodec(codecs.lz4);
CompressionCodecs[CompressionTypes.ZSTD] = asKafkajsCodec(codecs.zstd);

export * from 'kafkajs';
