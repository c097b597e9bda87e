import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { NotFoundError } from '@switchforge/platform/errors';
import { useInfra, type Infra } from '@switchforge/testkit';
import { canonicalXml, contentHash } from './normalize.js';
import { BackupStore } from './store.js';

const schema = `backup_${randomBytes(4).toString('hex')}`;
let infra: Infra;
let dbA: DataSource;
let dbB: DataSource;
let store: BackupStore;

const config = (mtu: number) =>
  canonicalXml(
    `<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><interfaces><interface><name>Ethernet1</name><config><mtu>${mtu}</mtu><enabled>true</enabled></config></interface></interfaces></data>`,
  );
const device = () => `lab/sw-${randomBytes(3).toString('hex')}`;
const rows = async (d: string) =>
  Number(
    (
      (await dbA.query('SELECT count(*)::int AS n FROM config_backups WHERE device = $1', [d])) as Array<{
        n: number;
      }>
    )[0]!.n,
  );

describe('BackupStore on a real PostgreSQL', () => {
  before(async () => {
    infra = await useInfra({ postgres: true });
    await migrate({ url: infra.postgres.dsn, schema });
    dbA = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 4 });
    dbB = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 4 });
    await Promise.all([dbA.initialize(), dbB.initialize()]);
    store = new BackupStore(dbA);
  });
  after(async () => {
    await dbA?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await Promise.all([dbA?.destroy(), dbB?.destroy()]);
    await infra?.stop();
  });

  it('stores the first backup of a device with its hash, size, format and trigger', async () => {
    const d = device();
    const saved = await store.saveIfChanged(d, config(9100), 'xml', 'schedule');
    assert.equal(saved.stored, true);
    assert.equal(saved.hash, contentHash(config(9100)));
    assert.ok(saved.takenAt instanceof Date && Math.abs(saved.takenAt.getTime() - Date.now()) < 60_000);
    const got = await store.get(saved.id);
    assert.equal(got?.content, config(9100));
    assert.equal(got?.contentHash, saved.hash);
    assert.equal(got?.sizeBytes, Buffer.byteLength(config(9100)));
    assert.equal(got?.format, 'xml');
    assert.equal(got?.trigger, 'schedule');
    assert.equal(got?.device, d);
  });

  it('does not store an unchanged configuration again, and answers with the latest version', async () => {
    const d = device();
    const first = await store.saveIfChanged(d, config(9100), 'xml', 'schedule');
    const again = await store.saveIfChanged(d, config(9100), 'xml', 'annotation');
    assert.deepEqual(
      { stored: again.stored, id: again.id, hash: again.hash },
      { stored: false, id: first.id, hash: first.hash },
    );
    assert.equal(await rows(d), 1);
  });

  it('stores a changed configuration as a new version, and a change back as another', async () => {
    const d = device();
    const v1 = await store.saveIfChanged(d, config(9100), 'xml', 'schedule');
    const v2 = await store.saveIfChanged(d, config(1500), 'xml', 'schedule');
    const v3 = await store.saveIfChanged(d, config(9100), 'xml', 'schedule');
    assert.equal(v2.stored, true);
    assert.equal(v3.stored, true);
    assert.notEqual(v2.hash, v1.hash);
    assert.equal(v3.hash, v1.hash);
    assert.deepEqual(
      (await store.list(d)).map((v) => v.id),
      [v3.id, v2.id, v1.id],
    );
  });

  it('keeps each device’s versions apart', async () => {
    const [d1, d2] = [device(), device()];
    await store.saveIfChanged(d1, config(9100), 'xml', 'schedule');
    const other = await store.saveIfChanged(d2, config(9100), 'xml', 'schedule');
    assert.equal(other.stored, true);
  });

  it('lists newest first without content, limited and paged by id', async () => {
    const d = device();
    const ids: string[] = [];
    for (const mtu of [1000, 1001, 1002, 1003])
      ids.push((await store.saveIfChanged(d, config(mtu), 'xml', 'api')).id);
    const page1 = await store.list(d, { limit: 2 });
    assert.deepEqual(
      page1.map((v) => v.id),
      [ids[3], ids[2]],
    );
    assert.equal('content' in page1[0]!, false);
    const page2 = await store.list(d, { limit: 2, beforeId: page1.at(-1)!.id });
    assert.deepEqual(
      page2.map((v) => v.id),
      [ids[1], ids[0]],
    );
    assert.deepEqual(await store.list(d, { before: new Date(Date.now() - 3_600_000) }), []);
  });

  it('diffs two versions as a unified diff that shows the change', async () => {
    const d = device();
    const v1 = await store.saveIfChanged(d, config(9100), 'xml', 'schedule');
    const v2 = await store.saveIfChanged(d, config(1500), 'xml', 'annotation');
    const diff = await store.diff(v1.id, v2.id);
    assert.equal(diff.from.id, v1.id);
    assert.equal(diff.to.trigger, 'annotation');
    assert.match(diff.patch, new RegExp(`^--- ${d}@${v1.id}\\t`, 'm'));
    assert.match(diff.patch, new RegExp(`^\\+\\+\\+ ${d}@${v2.id}\\t`, 'm'));
    assert.match(diff.patch, /^-\s+<mtu>9100<\/mtu>$/m);
    assert.match(diff.patch, /^\+\s+<mtu>1500<\/mtu>$/m);
    assert.match(diff.patch, /^ \s+<enabled>true<\/enabled>$/m);
    assert.doesNotMatch((await store.diff(v1.id, v1.id)).patch, /^@@/m);
  });

  it('answers an unknown version with nothing from get and NotFoundError from diff', async () => {
    assert.equal(await store.get('999999999'), undefined);
    assert.equal(await store.get('not-a-number'), undefined);
    await assert.rejects(store.diff('999999999', '999999998'), NotFoundError);
  });

  it('stores a change once when two workers save it at the same moment', async () => {
    const storeB = new BackupStore(dbB);
    for (let round = 0; round < 5; round++) {
      const d = device();
      const results = await Promise.all([
        store.saveIfChanged(d, config(9100), 'xml', 'schedule'),
        storeB.saveIfChanged(d, config(9100), 'xml', 'schedule'),
        store.saveIfChanged(d, config(9100), 'xml', 'schedule'),
        storeB.saveIfChanged(d, config(9100), 'xml', 'schedule'),
      ]);
      assert.equal(results.filter((r) => r.stored).length, 1, `round ${round}`);
      assert.equal(new Set(results.map((r) => r.id)).size, 1);
      assert.equal(await rows(d), 1);
    }
  });
});
