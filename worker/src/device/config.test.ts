import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '@switchforge/platform/errors';
import { readDeviceWorkerEnv } from './config.js';

const required = {
  SWITCHFORGE_DEVICE_NAME: 'leaf1',
  SWITCHFORGE_DEVICE_NAMESPACE: 'lab',
  POD_NAME: 'leaf1-worker-abc',
  SWITCHFORGE_LEASE_NAME: 'leaf1-collector',
  SWITCHFORGE_DATABASE_URL: 'postgres://db/switchforge',
};

describe("the device worker's environment", () => {
  test('defaults fill what the operator leaves unset', () => {
    const env = readDeviceWorkerEnv(required);
    assert.equal(env.SWITCHFORGE_DEVICE_NAME, 'leaf1');
    assert.equal(env.SWITCHFORGE_LEASE_DURATION_SECONDS, 8);
    assert.equal(env.SWITCHFORGE_HEALTH_PORT, 8080);
    assert.equal(env.SWITCHFORGE_MAX_BUFFERED_SAMPLES, 200_000);
    assert.equal(env.SWITCHFORGE_MEMORY_LIMIT_BYTES, 0);
    assert.equal(env.POD_IP, undefined);
  });

  test('numbers are parsed and optional strings kept', () => {
    const env = readDeviceWorkerEnv({
      ...required,
      POD_IP: '10.0.0.7',
      SWITCHFORGE_BATCH_SIZE: '1000',
      SWITCHFORGE_MEMORY_LIMIT_BYTES: '134217728',
    });
    assert.equal(env.POD_IP, '10.0.0.7');
    assert.equal(env.SWITCHFORGE_BATCH_SIZE, 1000);
    assert.equal(env.SWITCHFORGE_MEMORY_LIMIT_BYTES, 134_217_728);
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['a missing name', { ...required, SWITCHFORGE_DEVICE_NAME: '' }, /SWITCHFORGE_DEVICE_NAME: required/],
    [
      'a port that is not a number',
      { ...required, SWITCHFORGE_HEALTH_PORT: 'http' },
      /SWITCHFORGE_HEALTH_PORT: expected an integer, got "http"/,
    ],
    [
      'a lease too short',
      { ...required, SWITCHFORGE_LEASE_DURATION_SECONDS: '1' },
      /SWITCHFORGE_LEASE_DURATION_SECONDS: 1 is outside 2\.\.300/,
    ],
    [
      'a fractional batch size',
      { ...required, SWITCHFORGE_BATCH_SIZE: '2.5' },
      /SWITCHFORGE_BATCH_SIZE: expected an integer/,
    ],
  ];
  for (const [what, env, message] of bad) {
    test(`${what} stops the worker with the variable's name`, () => {
      assert.throws(
        () => readDeviceWorkerEnv(env),
        (e: unknown) =>
          e instanceof InputError && e.reason === 'InvalidConfiguration' && message.test(e.message),
      );
    });
  }

  test('every problem is reported at once', () => {
    assert.throws(
      () => readDeviceWorkerEnv({ SWITCHFORGE_BATCH_SIZE: '0' }),
      (e: unknown) =>
        e instanceof InputError &&
        /POD_NAME: required/.test(e.message) &&
        /SWITCHFORGE_BATCH_SIZE: 0/.test(e.message),
    );
  });
});
