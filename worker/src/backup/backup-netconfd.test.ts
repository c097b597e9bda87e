/**
 * Backups against a NETCONF server written by others: Debian's netconfd (yuma123) behind
 * OpenSSH, started by e2e/infra/netconfd.sh in a state directory of this file's own, and a real
 * PostgreSQL. The configuration is changed through netconfd's candidate datastore and commit.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { useInfra, type Infra } from '@switchforge/testkit';
import type { DeviceSecrets } from '../device/device-secrets.js';
import { NetconfSession } from '../netconf/session.js';
import { fetchRunningConfig } from './fetch.js';
import { normalizeConfig } from './normalize.js';
import { BackupStore } from './store.js';
import { testDevice } from './test-support.js';

const script = fileURLToPath(new URL('../../../e2e/infra/netconfd.sh', import.meta.url));
const IETF_IF = 'urn:ietf:params:xml:ns:yang:ietf-interfaces';
const schema = `backupnc_${randomBytes(4).toString('hex')}`;

describe('backups of netconfd (yuma123) into PostgreSQL', () => {
  let info: Record<string, string> = {};
  let skip: string | undefined;
  let workDir = '';
  let env: NodeJS.ProcessEnv = {};
  let infra: Infra;
  let db: DataSource;
  let store: BackupStore;

  before(async () => {
    // netconfd writes backup-cfg.xml into its working directory on <commit>: give it one it can write.
    workDir = await mkdtemp(join(tmpdir(), 'sf-backup-netconfd-'));
    await chmod(workDir, 0o1777);
    env = { ...process.env, SWITCHFORGE_NETCONFD_DIR: join(workDir, 'state') };
    try {
      const { stdout } = await promisify(execFile)('bash', [script], { timeout: 300_000, cwd: workDir, env });
      info = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    } catch (e) {
      const err = e as { stderr?: string };
      if (/apt-get|missing packages|Unable to locate|Could not resolve/i.test(err.stderr ?? ''))
        skip = `netconfd could not be installed: ${err.stderr?.trim().split('\n').at(-1)}`;
      else throw e;
    }
    infra = await useInfra({ postgres: true });
    await migrate({ url: infra.postgres.dsn, schema });
    db = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 2 });
    await db.initialize();
    store = new BackupStore(db);
  });
  after(async () => {
    if (!skip) await promisify(execFile)('bash', [script, 'stop'], { env }).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    await infra?.stop();
  });

  const secrets = async (): Promise<DeviceSecrets> => ({
    username: info.username ?? '',
    hostKey: info.host_key ?? '',
    ...(info.password
      ? { password: info.password }
      : { privateKey: await readFile(info.private_key_file ?? '', 'utf8') }),
  });

  /** Sets an interface description through the candidate datastore. */
  async function setDescription(text: string): Promise<void> {
    const s = await secrets();
    const session = await NetconfSession.connect({
      host: '127.0.0.1',
      port: Number(info.port),
      username: s.username!,
      password: s.password,
      privateKey: s.privateKey,
      hostKey: s.hostKey,
      device: 'lab/netconfd',
    });
    try {
      await session.rpc(
        `<edit-config><target><candidate/></target><config><interfaces xmlns="${IETF_IF}"><interface>` +
          `<name>sf-backup0</name><description>${text}</description>` +
          `<type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type>` +
          `</interface></interfaces></config></edit-config>`,
        'edit-config',
      );
      await session.rpc('<commit/>', 'commit');
    } finally {
      await session.close();
    }
  }

  it('stores the first backup, skips an unchanged one, stores a change, and diffs the two', async (t) => {
    if (skip) return t.skip(skip);
    const device = testDevice('netconfd', { protocol: 'netconf', port: Number(info.port) });
    const backup = async () => {
      const c = normalizeConfig(await fetchRunningConfig(device, await secrets()));
      return store.saveIfChanged('lab/netconfd', c.content, c.format, 'annotation');
    };
    await setDescription('uplink to spine-1');
    const v1 = await backup();
    assert.equal(v1.stored, true);
    const stored = await store.get(v1.id);
    assert.match(stored?.content ?? '', /^<data [^>]*>\n/);
    assert.match(stored?.content ?? '', /^ {6}<description>uplink to spine-1<\/description>$/m);

    const again = await backup();
    assert.deepEqual([again.stored, again.id, again.hash], [false, v1.id, v1.hash]);

    await setDescription('uplink to spine-2');
    const v2 = await backup();
    assert.equal(v2.stored, true);
    const { patch } = await store.diff(v1.id, v2.id);
    assert.match(patch, /^-\s+<description>uplink to spine-1<\/description>$/m);
    assert.match(patch, /^\+\s+<description>uplink to spine-2<\/description>$/m);
    assert.equal(patch.split('\n').filter((l) => /^[-+][^-+]/.test(l)).length, 2, patch);
  });
});
