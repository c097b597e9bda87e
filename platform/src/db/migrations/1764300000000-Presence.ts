import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who watches what (api/src/presence/): each API replica heartbeats its row in `api_replicas` and
 * keeps one row per live subscription in `api_watchers`. A replica that dies stops heartbeating;
 * the others ignore its rows once its lease has passed and sweep them.
 */
export class Presence1764300000000 implements MigrationInterface {
  name = 'Presence1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_replicas (
        replica_id   text        PRIMARY KEY,
        heartbeat_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE api_watchers (
        replica_id      text        NOT NULL REFERENCES api_replicas (replica_id) ON DELETE CASCADE,
        subscription_id text        NOT NULL,
        kind            text        NOT NULL,
        namespace       text        NOT NULL,
        name            text        NOT NULL,
        username        text        NOT NULL,
        since           timestamptz NOT NULL,
        PRIMARY KEY (replica_id, subscription_id)
      )`);
    await q.query(`CREATE INDEX api_watchers_object ON api_watchers (kind, namespace, name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_watchers`);
    await q.query(`DROP TABLE IF EXISTS api_replicas`);
  }
}
