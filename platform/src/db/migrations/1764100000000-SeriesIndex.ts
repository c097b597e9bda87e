import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Series queries select one device and path over a time range, then filter labels and bucket
 * values: an index on (device, path, ts) that carries the value serves them without scanning the
 * device's other paths. It replaces (device, ts) so that ingest still maintains two indexes.
 */
export class SeriesIndex1764100000000 implements MigrationInterface {
  name = 'SeriesIndex1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS metrics_device_ts`);
    await q.query(`CREATE INDEX metrics_device_path_ts ON metrics (device, path, ts DESC) INCLUDE (value)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS metrics_device_path_ts`);
    await q.query(`CREATE INDEX metrics_device_ts ON metrics (device, ts DESC)`);
  }
}
