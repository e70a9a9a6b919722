/**
 * The kbak library: `require('kbak')`. Everything here is typed and independent of the CLI;
 * errors are the classes below, each with an `exitCode` from the README's table.
 */
export { dump, restore, planRestore, type DumpOptions, type DumpResult, type RestoreOptions, type KafkaOptions, type RegistryOptions } from './api';
export { listBackups, openBackup, Backup, type BackupRef } from './backup/catalog';
export type { Manifest, TopicEntry, PartitionEntry, SegmentEntry, SchemaEntry, GroupEntry } from './backup/manifest';
export type { DumpSummary, TopicProgress } from './dump/dump';
export type { RestoreSummary, LaneTopicProgress, DryRunResult } from './restore/restore';
export type { RestoreMode } from './restore/plan';
export type { BackupRecord, RecordHeader } from './segment/record';
export { TimestampType } from './segment/record';

export type { ObjectStore, ObjectWriter } from './store/store';
export { DiskStore } from './store/disk';
export { S3Store, type S3Location } from './store/s3';
export { MemoryStore } from './store/memory';

export { openKafka, KafkaServiceError, CODEC_NAMES, type CodecName } from './kafka';
export type * from './kafka/adapter';
export { MemoryKafka } from './kafka/memory';

export {
  ExitCode,
  KbakError,
  UsageError,
  InvalidOptionError,
  NotFoundError,
  ServiceError,
  IntegrityError,
  CorruptBackupError,
  SafetyError,
  UnsupportedDataError,
  ConflictError,
  PartialSuccessError,
  InterruptedError,
  InternalError,
  type ExitCodeValue,
  type ServiceName,
  type KbakErrorOptions,
} from './errors';
export { TOOL_VERSION as VERSION } from './version';
