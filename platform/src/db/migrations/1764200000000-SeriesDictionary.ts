import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ROLLUP_WRITERS_LOCK } from '../metric-rollup-keys.js';

/**
 * Metrics as a series dictionary and narrow samples (the Prometheus / promscale layout): each
 * (device, path, labels) is a row of `metric_series` with an id, and `metric_samples` holds
 * (series_id, ts, value, ...) keyed on (series_id, ts). Ingest then maintains one 16-byte key per
 * row instead of a key holding text and jsonb, which is what made a row cost ~15 µs in PostgreSQL.
 *
 * Series queries read `metric_rollup_1m` (per series and minute: count, min, max, sum, first and
 * last value) for minutes below the refresh watermark and raw samples above it, as TimescaleDB's
 * real-time continuous aggregates do. Rows committed below the watermark (late or out of order)
 * are recorded as invalidations by a statement trigger, so that queries read those minutes raw
 * until the refresh re-aggregates them; nothing late is silently missed.
 *
 * `metrics` stays as a view of the old shape, insertable, for ad-hoc SQL, dashboards and tests.
 */
export class SeriesDictionary1764200000000 implements MigrationInterface {
  name = 'SeriesDictionary1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const timescale = await isHypertable(q, 'metrics');
    await q.query(`ALTER TABLE metrics RENAME TO metrics_v1`);
    await q.query(`
      CREATE TABLE metric_series (
        id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        device      text        NOT NULL,
        path        text        NOT NULL,
        labels      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (device, path, labels)
      )`);
    // Fixed-width columns first: no padding between them.
    await q.query(`
      CREATE TABLE metric_samples (
        series_id   bigint           NOT NULL,
        ts          timestamptz      NOT NULL,
        value       double precision NULL,
        deleted     boolean          NOT NULL DEFAULT false,
        value_text  text             NULL,
        PRIMARY KEY (series_id, ts)
      ) ${timescale ? '' : 'PARTITION BY RANGE (ts)'}`);
    if (timescale) {
      await q.query(
        `SELECT create_hypertable('metric_samples', 'ts', chunk_time_interval => interval '1 day')`,
      );
    } else {
      await q.query(`CREATE TABLE metric_samples_default PARTITION OF metric_samples DEFAULT`);
      await q.query(partitionFunction('metric_samples'));
      await q.query(`SELECT switchforge_ensure_metric_partitions(current_date - 1, 9)`);
    }
    // The rollup refresh reads a time range across every series: a BRIN index finds the recent
    // blocks of time-ordered inserts for almost no cost at ingest.
    await q.query(`CREATE INDEX metric_samples_ts_brin ON metric_samples USING brin (ts)`);

    await q.query(`
      CREATE TABLE metric_rollup_1m (
        series_id    bigint           NOT NULL,
        bucket       timestamptz      NOT NULL,
        count        integer          NOT NULL,
        min          double precision NOT NULL,
        max          double precision NOT NULL,
        sum          double precision NOT NULL,
        first_ts     timestamptz      NOT NULL,
        first_value  double precision NOT NULL,
        last_ts      timestamptz      NOT NULL,
        last_value   double precision NOT NULL,
        PRIMARY KEY (series_id, bucket)
      )`);
    await q.query(`
      CREATE TABLE metric_rollup_state (
        id            integer     PRIMARY KEY CHECK (id = 1),
        watermark     timestamptz NULL,
        refreshed_at  timestamptz NULL
      )`);
    await q.query(`INSERT INTO metric_rollup_state (id) VALUES (1)`);
    // series_id NULL: every series. lo and hi are sample times, inclusive; minutes are re-aggregated.
    await q.query(`
      CREATE TABLE metric_rollup_invalidations (
        series_id  bigint      NULL,
        lo         timestamptz NOT NULL,
        hi         timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX metric_rollup_invalidations_series ON metric_rollup_invalidations (series_id)`,
    );

    // The shared lock pairs with the refresh's exclusive one while it advances the watermark: a
    // writer either committed before the advance (its rows are aggregated) or reads the new
    // watermark here (its rows below it are invalidated).
    await q.query(`
      CREATE FUNCTION switchforge_metric_samples_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        w timestamptz;
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(${ROLLUP_WRITERS_LOCK});
        SELECT watermark INTO w FROM metric_rollup_state WHERE id = 1;
        IF w IS NOT NULL THEN
          INSERT INTO metric_rollup_invalidations (series_id, lo, hi)
          SELECT series_id, min(ts), max(ts) FROM new_rows WHERE ts < w GROUP BY series_id;
        END IF;
        RETURN NULL;
      END $$`);
    if (timescale) {
      // Hypertables take no transition tables: a row trigger, slower, on TimescaleDB only.
      await q.query(`
        CREATE FUNCTION switchforge_metric_sample_invalidate_row() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          w timestamptz;
        BEGIN
          PERFORM pg_advisory_xact_lock_shared(${ROLLUP_WRITERS_LOCK});
          SELECT watermark INTO w FROM metric_rollup_state WHERE id = 1;
          IF w IS NOT NULL AND NEW.ts < w THEN
            INSERT INTO metric_rollup_invalidations (series_id, lo, hi) VALUES (NEW.series_id, NEW.ts, NEW.ts);
          END IF;
          RETURN NULL;
        END $$`);
      await q.query(`
        CREATE TRIGGER metric_samples_invalidate AFTER INSERT ON metric_samples
        FOR EACH ROW EXECUTE FUNCTION switchforge_metric_sample_invalidate_row()`);
    } else {
      await q.query(`
        CREATE TRIGGER metric_samples_invalidate AFTER INSERT ON metric_samples
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION switchforge_metric_samples_invalidate()`);
    }

    await q.query(`
      CREATE FUNCTION switchforge_metric_series_id(d text, p text, l jsonb) RETURNS bigint
      LANGUAGE plpgsql AS $$
      DECLARE
        sid bigint;
      BEGIN
        SELECT id INTO sid FROM metric_series WHERE device = d AND path = p AND labels = l;
        IF sid IS NULL THEN
          INSERT INTO metric_series (device, path, labels) VALUES (d, p, l)
            ON CONFLICT DO NOTHING RETURNING id INTO sid;
          IF sid IS NULL THEN
            SELECT id INTO sid FROM metric_series WHERE device = d AND path = p AND labels = l;
          END IF;
        END IF;
        RETURN sid;
      END $$`);

    await q.query(`
      INSERT INTO metric_series (device, path, labels)
      SELECT DISTINCT device, path, labels FROM metrics_v1 ORDER BY 1, 2, 3`);
    await q.query(`
      INSERT INTO metric_samples (series_id, ts, value, deleted, value_text)
      SELECT s.id, m.ts, m.value, m.deleted, m.value_text
        FROM metrics_v1 m JOIN metric_series s USING (device, path, labels)`);
    await q.query(`DROP TABLE metrics_v1 CASCADE`);

    await q.query(`
      CREATE VIEW metrics AS
      SELECT m.ts, s.device, s.path, s.labels, m.value, m.value_text, m.deleted
        FROM metric_samples m JOIN metric_series s ON s.id = m.series_id`);
    await q.query(`ALTER VIEW metrics ALTER COLUMN labels SET DEFAULT '{}'::jsonb`);
    await q.query(`ALTER VIEW metrics ALTER COLUMN deleted SET DEFAULT false`);
    await q.query(`
      CREATE FUNCTION switchforge_metrics_view_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO metric_samples (series_id, ts, value, deleted, value_text)
        VALUES (switchforge_metric_series_id(NEW.device, NEW.path, coalesce(NEW.labels, '{}'::jsonb)),
                NEW.ts, NEW.value, coalesce(NEW.deleted, false), NEW.value_text);
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER metrics_insert INSTEAD OF INSERT ON metrics
      FOR EACH ROW EXECUTE FUNCTION switchforge_metrics_view_insert()`);
  }

  async down(q: QueryRunner): Promise<void> {
    const timescale = await isHypertable(q, 'metric_samples');
    await q.query(`DROP VIEW metrics`);
    await q.query(`DROP FUNCTION switchforge_metrics_view_insert()`);
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
      await q.query(`SELECT create_hypertable('metrics', 'ts', chunk_time_interval => interval '1 day')`);
    } else {
      await q.query(`CREATE TABLE metrics_default PARTITION OF metrics DEFAULT`);
      await q.query(partitionFunction('metrics'));
      await q.query(`SELECT switchforge_ensure_metric_partitions(current_date - 1, 9)`);
    }
    await q.query(`CREATE INDEX metrics_device_path_ts ON metrics (device, path, ts DESC) INCLUDE (value)`);
    await q.query(`
      INSERT INTO metrics (ts, device, path, labels, value, value_text, deleted)
      SELECT m.ts, s.device, s.path, s.labels, m.value, m.value_text, m.deleted
        FROM metric_samples m JOIN metric_series s ON s.id = m.series_id`);
    await q.query(`DROP TABLE metric_samples CASCADE`);
    await q.query(`DROP TABLE metric_series`);
    await q.query(`DROP TABLE metric_rollup_1m`);
    await q.query(`DROP TABLE metric_rollup_state`);
    await q.query(`DROP TABLE metric_rollup_invalidations`);
    await q.query(`DROP FUNCTION switchforge_metric_series_id(text, text, jsonb)`);
    await q.query(`DROP FUNCTION switchforge_metric_samples_invalidate()`);
    await q.query(`DROP FUNCTION IF EXISTS switchforge_metric_sample_invalidate_row()`);
  }
}

/** Day partitions of `table`, named `<table>_YYYYMMDD`; the same function the first schema made. */
function partitionFunction(table: 'metrics' | 'metric_samples'): string {
  return `
    CREATE OR REPLACE FUNCTION switchforge_ensure_metric_partitions(start_day date, days integer)
    RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE
      d date;
      created integer := 0;
      name text;
    BEGIN
      FOR i IN 0 .. days - 1 LOOP
        d := start_day + i;
        name := format('${table}_%s', to_char(d, 'YYYYMMDD'));
        IF to_regclass(name) IS NULL THEN
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF ${table} FOR VALUES FROM (%L) TO (%L)',
            name, d::timestamptz, (d + 1)::timestamptz);
          created := created + 1;
        END IF;
      END LOOP;
      RETURN created;
    END $$`;
}

async function isHypertable(q: QueryRunner, table: string): Promise<boolean> {
  const ext = (await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`)) as unknown[];
  if (ext.length === 0) return false;
  const rows = (await q.query(
    `SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1 AND hypertable_schema = current_schema()`,
    [table],
  )) as unknown[];
  return rows.length > 0;
}
