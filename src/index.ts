/**
 * The kbak library: `require('kbak')`. Everything here is typed and independent of the CLI
 * (the CLI is built on it: src/api.ts); errors are the classes below, each with an
 * `exitCode` from the README's table. README "Using kbak as a library" documents each function.
 */
export {
  dump,
  dumpShard,
  finalizeDump,
  listShardedDumps,
  restore,
  planRestore,
  recover,
  planRecover,
  describeBackups,
  verify,
  prune,
  breakLocks,
  readRawRecords,
  listLanes,
  describeLane,
  deleteLane,
  gcLanes,
  snapshotLane,
  cloneLane,
  resetLane,
  initPolicy,
  type InitPolicyOptions,
  type Cancellable,
  type DumpOptions,
  type DumpResult,
  type ShardedDumpOptions,
  type FinalizeDumpOptions,
  type FinalizeDumpResult,
  type RestoreOptions,
  type RecoverOptions,
  type KafkaOptions,
  type RegistryOptions,
  type StoreOptions,
  type BackupList,
  type VerifyOptions,
  type PruneOptions,
  type RawRecordsOptions,
  type RecordsInBlock,
  type LaneOptions,
  type LaneTemplateOptions,
  type LaneList,
  type LaneDescription,
  type DeleteLaneOptions,
  type DeleteLaneOutcome,
  type GcLanesOptions,
  type GcLanesResult,
  type SnapshotLaneOptions,
  type LaneSnapshotResult,
  type LaneObjectName,
  type CloneLaneOptions,
  type LaneCloneResult,
  type ResetLaneOptions,
  type LaneResetResult,
} from './api';
export type { BackupRow } from './backup/summary';
export type { ShardDumpResult, ShardOutcome } from './dump/sharded';
export type { PlanStatus } from './backup/plans';
export { parseShardSpec, type ShardSpec } from './model/shard';
export { shardedBackupId } from './dump/shard-id';
export type { VerifyResult } from './backup/verify';
export type { PruneResult } from './backup/prune';
export type { RetentionPolicy } from './backup/retention';
export type { LockInfo } from './backup/lock';
export type { RecordLayout } from './segment/format';
export type { LaneOverview, LaneDeleteResult } from './lane/lifecycle';
export type { LaneDeletePlan } from './lane/delete-plan';
export type { LedgerEntry } from './lane/ledger';
export type { LaneRetention } from './lane/topic-configs';
export { listBackups, openBackup, Backup, type BackupRef } from './backup/catalog';
export type { Manifest, TopicEntry, PartitionEntry, SegmentEntry, SchemaEntry, GroupEntry } from './backup/manifest';
export type { DumpSummary, TopicProgress } from './dump/dump';
export type { RestoreSummary, LaneTopicProgress, DryRunResult } from './restore/restore';
export type { RestoreMode } from './restore/plan';
export type { RecoverSummary, RecoveryDryRun } from './recover/recover';
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
  UnmaskableRecordError,
  ConflictError,
  PartialSuccessError,
  InterruptedError,
  InternalError,
  type ExitCodeValue,
  type ServiceName,
  type KbakErrorOptions,
} from './errors';
export { TOOL_VERSION as VERSION } from './version';
