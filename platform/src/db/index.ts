export {
  createDataSource,
  migrate,
  revertLastMigration,
  entities,
  migrations,
  type DatabaseOptions,
} from './data-source.js';
export { ConfigBackupEntity, type ConfigBackup } from './entities/config-backup.js';
export {
  AudioJobEntity,
  AudioResultEntity,
  type AudioJobPhase,
  type AudioJobRecord,
  type AudioResultRecord,
} from './entities/audio-job.js';
