import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAudioOperatorConfig } from '../config.js';
import { desiredPoolDeployment } from './pool-deployment.js';

const base = {
  TEMPORAL_ADDRESS: 'temporal-frontend.temporal.svc:7233',
  AUDIO_STORAGE_ROOT: '/var/lib/switchforge/audio',
};

function pool(env: Record<string, string>) {
  const config = readAudioOperatorConfig({ ...base, ...env });
  assert.ok(config.pool);
  const d = desiredPoolDeployment(
    config.pool,
    { temporal: config.temporal, queuePrefix: '', storageRoot: config.storageRoot },
    1,
    undefined,
  );
  const container = d.spec!.template.spec!.containers[0]!;
  const env_ = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  return { config, d, container, env: env_ };
}

describe('the audio worker pool Deployment', () => {
  test('without Temporal TLS the workers connect in plaintext and mount no TLS Secret', () => {
    const { config, d, env } = pool({});
    assert.deepEqual(config.temporalTlsEnv, {});
    assert.equal(env.TEMPORAL_TLS_CA_FILE, undefined);
    assert.ok(!(d.spec!.template.spec!.volumes ?? []).some((v) => v.name === 'temporal-tls'));
  });

  test("with Temporal TLS the workers mount the operator's Secret at the same paths and get the same variables", () => {
    const { d, container, env } = pool({
      TEMPORAL_TLS_SECRET: 'temporal-client',
      TEMPORAL_TLS_CA_FILE: '/var/run/switchforge/temporal-tls/ca.crt',
      TEMPORAL_TLS_CERT_FILE: '/var/run/switchforge/temporal-tls/tls.crt',
      TEMPORAL_TLS_KEY_FILE: '/var/run/switchforge/temporal-tls/tls.key',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example.internal',
    });
    assert.equal(env.TEMPORAL_TLS_CA_FILE, '/var/run/switchforge/temporal-tls/ca.crt');
    assert.equal(env.TEMPORAL_TLS_KEY_FILE, '/var/run/switchforge/temporal-tls/tls.key');
    assert.equal(env.TEMPORAL_TLS_SERVER_NAME, 'temporal.example.internal');
    assert.deepEqual(d.spec!.template.spec!.volumes?.find((v) => v.name === 'temporal-tls')?.secret, {
      secretName: 'temporal-client',
      defaultMode: 0o440,
    });
    assert.deepEqual(
      container.volumeMounts?.filter((m) => m.name === 'temporal-tls'),
      [{ name: 'temporal-tls', mountPath: '/var/run/switchforge/temporal-tls', readOnly: true }],
    );
  });

  test('a TLS Secret without any file inside it named is a configuration error', () => {
    assert.throws(
      () => readAudioOperatorConfig({ ...base, TEMPORAL_TLS_SECRET: 'temporal-client' }),
      /TEMPORAL_TLS_SECRET/,
    );
  });

  test('a model folder reaches the workers as AUDIO_MODEL_REPO', () => {
    assert.equal(pool({ AUDIO_WORKER_MODEL_REPO: '/models/demucs' }).env.AUDIO_MODEL_REPO, '/models/demucs');
    assert.equal(pool({}).env.AUDIO_MODEL_REPO, undefined);
  });

  test('object storage: the workers get the bucket as values, its credentials from the Secret, and a scratch emptyDir', () => {
    const { d, container, env } = pool({
      AUDIO_STORAGE_MODE: 'object',
      AUDIO_S3_ENDPOINT: 'http://s3.storage.svc:7070',
      AUDIO_S3_BUCKET: 'stems',
      AUDIO_S3_ACCESS_KEY_ID: 'operator-key',
      AUDIO_S3_SECRET_ACCESS_KEY: 'operator-secret',
      AUDIO_S3_CREDENTIALS_SECRET: 's3-creds',
    });
    assert.equal(env.AUDIO_STORAGE_MODE, 'object');
    assert.equal(env.AUDIO_S3_BUCKET, 'stems');
    const creds = (container.env ?? []).filter((e) => e.name.startsWith('AUDIO_S3_') && e.valueFrom);
    assert.deepEqual(
      creds.map((e) => [e.name, e.value, e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key]),
      [
        ['AUDIO_S3_ACCESS_KEY_ID', undefined, 's3-creds', 'accessKeyId'],
        ['AUDIO_S3_SECRET_ACCESS_KEY', undefined, 's3-creds', 'secretAccessKey'],
      ],
    );
    assert.ok(!JSON.stringify(d).includes('operator-secret'), 'no secret value in the Deployment');
    assert.deepEqual(
      d.spec!.template.spec!.volumes?.find((v) => v.name === 'audio'),
      { name: 'audio', emptyDir: {} },
    );
  });

  test('object storage without a credentials Secret for the pool is a configuration error', () => {
    assert.throws(
      () =>
        readAudioOperatorConfig({
          ...base,
          AUDIO_STORAGE_MODE: 'object',
          AUDIO_S3_ENDPOINT: 'http://s3.storage.svc:7070',
          AUDIO_S3_BUCKET: 'stems',
          AUDIO_S3_ACCESS_KEY_ID: 'k',
          AUDIO_S3_SECRET_ACCESS_KEY: 's',
        }),
      /AUDIO_S3_CREDENTIALS_SECRET/,
    );
  });

  test('the source allow lists reach the workers as set on the operator, and a bad range stops the operator', () => {
    const { env } = pool({
      AUDIO_SOURCE_ALLOW_CIDRS: '10.20.0.0/16',
      AUDIO_SOURCE_CLUSTER_CIDRS: '10.96.0.0/12',
    });
    assert.equal(env.AUDIO_SOURCE_ALLOW_CIDRS, '10.20.0.0/16');
    assert.equal(env.AUDIO_SOURCE_CLUSTER_CIDRS, '10.96.0.0/12');
    assert.throws(
      () => readAudioOperatorConfig({ ...base, AUDIO_SOURCE_ALLOW_CIDRS: '10.20.0.0/99' }),
      /allowCidrs/,
    );
  });
});
