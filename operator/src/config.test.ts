import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readOperatorConfig } from './config.js';

const base = { SWITCHFORGE_WORKER_DATABASE_URL: 'postgres://db/switchforge' };

describe('the operator configuration of where device workers run', () => {
  test('defaults to no node selector and no extra tolerations', () => {
    const c = readOperatorConfig(base);
    assert.deepEqual(c.SWITCHFORGE_WORKER_NODE_SELECTOR, {});
    assert.deepEqual(c.SWITCHFORGE_WORKER_TOLERATIONS, []);
  });

  test('reads both as JSON, as the chart renders them', () => {
    const c = readOperatorConfig({
      ...base,
      SWITCHFORGE_WORKER_NODE_SELECTOR: '{"pool":"collectors"}',
      SWITCHFORGE_WORKER_TOLERATIONS: '[{"key":"pool","operator":"Exists","effect":"NoSchedule"}]',
    });
    assert.deepEqual(c.SWITCHFORGE_WORKER_NODE_SELECTOR, { pool: 'collectors' });
    assert.deepEqual(c.SWITCHFORGE_WORKER_TOLERATIONS, [
      { key: 'pool', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  test('refuses a value that is not JSON or not the shape, naming the variable', () => {
    assert.throws(
      () => readOperatorConfig({ ...base, SWITCHFORGE_WORKER_NODE_SELECTOR: 'pool=collectors' }),
      /SWITCHFORGE_WORKER_NODE_SELECTOR.*JSON/s,
    );
    assert.throws(
      () => readOperatorConfig({ ...base, SWITCHFORGE_WORKER_TOLERATIONS: '[{"effect":"Sometimes"}]' }),
      /SWITCHFORGE_WORKER_TOLERATIONS/,
    );
  });
});
