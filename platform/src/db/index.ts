export {
  createDataSource,
  migrate,
  revertLastMigration,
  entities,
  migrations,
  type DatabaseOptions,
} from './data-source.js';
export {
  refreshMetricRollups,
  startRollupRefresher,
  mergeMinuteRanges,
  type RollupRefreshOptions,
  type RollupRefreshResult,
  type RollupRefresher,
} from './metric-rollups.js';
export { ROLLUP_SECONDS } from './metric-rollup-keys.js';
export {
  maintainMetricPartitions,
  type PartitionMaintenanceOptions,
  type PartitionMaintenanceResult,
} from './metric-partitions.js';
export { ConfigBackupEntity, type ConfigBackup } from './entities/config-backup.js';
export {
  AudioJobEntity,
  AudioResultEntity,
  type AudioJobPhase,
  type AudioJobRecord,
  type AudioResultRecord,
} from './entities/audio-job.js';
