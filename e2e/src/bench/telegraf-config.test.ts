import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { telegrafConfig, type TelegrafBenchConfig } from './telegraf-config.js';

const base: TelegrafBenchConfig = {
  address: '127.0.0.1:57400',
  username: 'telemetry',
  password: 'pa"ss\\word',
  path: '/interfaces/interface[name=*]/state/counters',
  measurement: 'ifcounters',
  databaseUrl: 'postgres://u:p@127.0.0.1:5432/switchforge?sslmode=disable',
  schema: 'bench_telegraf',
  batchSize: 5000,
  bufferLimit: 500_000,
  flushIntervalMs: 200,
};

const telegraf = binary('telegraf');

describe('the Telegraf benchmark configuration', () => {
  test('mirrors the worker: batch size, buffer bound and flush interval', () => {
    const toml = telegrafConfig(base);
    assert.match(toml, /metric_batch_size = 5000\n/);
    assert.match(toml, /metric_buffer_limit = 500000\n/);
    assert.match(toml, /flush_interval = "200ms"\n/);
    assert.match(toml, /encoding = "json_ietf"\n/);
  });

  test(
    'is accepted by Telegraf itself, quotes and backslashes included',
    { skip: !existsSync(telegraf) && 'telegraf not built (bash e2e/infra/build-binaries.sh telegraf)' },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'switchforge-telegraf-conf-'));
      try {
        const file = join(dir, 'telegraf.conf');
        writeFileSync(file, telegrafConfig(base));
        const ok = await run(telegraf, ['config', 'check', '--config', file], { timeoutMs: 30_000 });
        assert.equal(ok.code, 0, ok.stderr);
        writeFileSync(
          file,
          `${telegrafConfig(base)}\n[[inputs.gnmi]]\n  addresses = ["x:1"]\n  not_an_option = 1\n`,
        );
        const bad = await run(telegraf, ['config', 'check', '--config', file], { timeoutMs: 30_000 });
        assert.notEqual(bad.code, 0, 'the check can fail');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
