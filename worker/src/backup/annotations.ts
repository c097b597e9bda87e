/** The backup feature's annotations live with the other worker/operator contract names. */
export { BACKUP_ANNOTATION } from '@switchforge/platform/device-worker';
