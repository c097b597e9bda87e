import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: time-partitioned metrics (a TimescaleDB hypertable where the extension is
 * installed), configuration backups, and audio job results. The metrics primary key is what
 * makes ingest idempotent: a retried batch or a hand-over between workers cannot duplicate rows.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    const timescale = await timescaleAvailable(q);
    await q.query(`
      CREATE TABLE metrics (
        ts          timestamptz      NOT NULL,
        device      text             NOT NULL,
        path        text             NOT NULL,
        labels      jsonb            NOT NULL DEFAULT '{}'::jsonb,
        value       double precision NULL,
        value_text  text             NULL,
        deleted     boolean          NOT NULL DEFAULT false,
        PRIMARY KEY (device, path, labels, ts)
      ) ${timescale ? '' : 'PARTITION BY RANGE (ts)'}`);
    if (timescale) {
      await q.query(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
      await q.query(`SELECT create_hypertable('metrics', 'ts', chunk_time_interval => interval '1 day')`);
    } else {
      // Rows outside the created partitions (a switch with a wrong clock) land here, never lost.
      await q.query(`CREATE TABLE metrics_default PARTITION OF metrics DEFAULT`);
      await q.query(`
        CREATE FUNCTION switchforge_ensure_metric_partitions(start_day date, days integer)
        RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE
          d date;
          created integer := 0;
          name text;
        BEGIN
          FOR i IN 0 .. days - 1 LOOP
            d := start_day + i;
            name := format('metrics_%s', to_char(d, 'YYYYMMDD'));
            IF to_regclass(name) IS NULL THEN
              EXECUTE format(
                'CREATE TABLE %I PARTITION OF metrics FOR VALUES FROM (%L) TO (%L)',
                name, d::timestamptz, (d + 1)::timestamptz);
              created := created + 1;
            END IF;
          END LOOP;
          RETURN created;
        END $$`);
      await q.query(`SELECT switchforge_ensure_metric_partitions(current_date - 1, 9)`);
    }
    // Series queries filter by device and time first; the primary key serves (device, path, ...).
    await q.query(`CREATE INDEX metrics_device_ts ON metrics (device, ts DESC)`);

    await q.query(`
      CREATE TABLE config_backups (
        id            bigserial   PRIMARY KEY,
        device        text        NOT NULL,
        taken_at      timestamptz NOT NULL DEFAULT now(),
        content_hash  text        NOT NULL,
        content       text        NOT NULL,
        size_bytes    integer     NOT NULL,
        format        text        NOT NULL,
        trigger       text        NOT NULL
      )`);
    await q.query(`CREATE INDEX config_backups_device_taken ON config_backups (device, taken_at DESC)`);

    await q.query(`
      CREATE TABLE audio_jobs (
        uid            uuid        PRIMARY KEY,
        namespace      text        NOT NULL,
        name           text        NOT NULL,
        workflow_id    text        NOT NULL UNIQUE,
        phase          text        NOT NULL,
        stage          text        NULL,
        progress       real        NOT NULL DEFAULT 0,
        message        text        NULL,
        failure_reason text        NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        completed_at   timestamptz NULL
      )`);
    await q.query(`CREATE INDEX audio_jobs_namespace_name ON audio_jobs (namespace, name)`);
    await q.query(`
      CREATE TABLE audio_results (
        job_uid          uuid             PRIMARY KEY REFERENCES audio_jobs (uid) ON DELETE CASCADE,
        duration_s       double precision NULL,
        tempo_bpm        double precision NULL,
        tempo_confidence double precision NULL,
        key_label        text             NULL,
        key_confidence   double precision NULL,
        loudness_lufs    double precision NULL,
        features         jsonb            NOT NULL DEFAULT '{}'::jsonb,
        stems            jsonb            NOT NULL DEFAULT '{}'::jsonb,
        model            text             NULL,
        created_at       timestamptz      NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audio_results`);
    await q.query(`DROP TABLE IF EXISTS audio_jobs`);
    await q.query(`DROP TABLE IF EXISTS config_backups`);
    await q.query(`DROP TABLE IF EXISTS metrics CASCADE`);
    await q.query(`DROP FUNCTION IF EXISTS switchforge_ensure_metric_partitions(date, integer)`);
  }
}

async function timescaleAvailable(q: QueryRunner): Promise<boolean> {
  const rows = (await q.query(
    `SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`,
  )) as unknown[];
  return rows.length > 0;
}
