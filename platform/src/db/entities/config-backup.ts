import { EntitySchema } from 'typeorm';

/** One stored version of a device's running configuration (only versions that changed). */
export interface ConfigBackup {
  id: string;
  device: string;
  takenAt: Date;
  contentHash: string;
  content: string;
  sizeBytes: number;
  /** `xml` for NETCONF `<get-config>`, `json` for gNMI Get. */
  format: string;
  /** `schedule`, `annotation` or `api`. */
  trigger: string;
}

export const ConfigBackupEntity = new EntitySchema<ConfigBackup>({
  name: 'ConfigBackup',
  tableName: 'config_backups',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    device: { type: 'text' },
    takenAt: { type: 'timestamptz', name: 'taken_at', createDate: true },
    contentHash: { type: 'text', name: 'content_hash' },
    content: { type: 'text' },
    sizeBytes: { type: 'integer', name: 'size_bytes' },
    format: { type: 'text' },
    trigger: { type: 'text' },
  },
});
