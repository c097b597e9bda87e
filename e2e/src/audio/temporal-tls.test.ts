/**
 * The operator's and the audio workers' Temporal connections over mutual TLS, configured the way
 * the chart configures them (TEMPORAL_TLS_* files of a mounted Secret). The dev server speaks
 * plaintext only, so a TLS terminator that demands a client certificate stands in front of it,
 * as an ingress or a service mesh would in a cluster.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { readTemporalTls } from '@switchforge/platform/config';
import { useInfra, type Infra } from '@switchforge/testkit';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import * as activities from '@switchforge/testkit/fixtures/greeting-activities';

let infra: Infra;
let pki: TestPki;
let terminator: tls.Server;
let address: string;
const handshakes = { ok: 0, refused: 0 };

before(async () => {
  infra = await useInfra({ temporal: true });
  pki = generateTestPki();
  const [upstreamHost, upstreamPort] = infra.temporal.address.split(':');
  terminator = tls.createServer(
    {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      handshakes.ok++;
      const upstream = net.connect(Number(upstreamPort), upstreamHost);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close);
      upstream.on('error', close);
    },
  );
  terminator.on('tlsClientError', () => handshakes.refused++);
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(terminator.address() as net.AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => terminator?.close(resolve));
  pki?.remove();
  await infra.stop();
});

const mtlsEnv = () => ({
  TEMPORAL_TLS_CA_FILE: pki.ca.certFile,
  TEMPORAL_TLS_CERT_FILE: pki.client.certFile,
  TEMPORAL_TLS_KEY_FILE: pki.client.keyFile,
  TEMPORAL_TLS_SERVER_NAME: 'localhost',
});

describe('Temporal over mutual TLS', () => {
  test('a client and a worker configured from TEMPORAL_TLS_* run a workflow through the TLS terminator', async () => {
    const settings = await readTemporalTls(mtlsEnv());
    assert.ok(settings);
    const taskQueue = `tls-${process.pid}`;
    const native = await NativeConnection.connect({ address, tls: settings });
    const worker = await Worker.create({
      connection: native,
      namespace: infra.temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(import.meta.resolve('@switchforge/testkit/fixtures/greeting-workflow')),
      activities,
    });
    const connection = await Connection.connect({ address, tls: settings });
    try {
      const client = new Client({ connection, namespace: infra.temporal.namespace });
      const result = await worker.runUntil(
        client.workflow.execute('greetingWorkflow', {
          taskQueue,
          workflowId: `tls-${Date.now()}`,
          args: [{ name: 'mtls' }],
        }),
      );
      assert.deepEqual(result, { greeting: 'hello, mtls' });
      assert.ok(handshakes.ok >= 2, 'both connections went through the terminator');
    } finally {
      await connection.close();
      await native.close();
    }
  });

  test('without a client certificate the terminator refuses the connection and the client says so', async () => {
    const before = handshakes.refused;
    const settings = await readTemporalTls({
      TEMPORAL_TLS_CA_FILE: pki.ca.certFile,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    await assert.rejects(NativeConnection.connect({ address, tls: settings! }), (e: Error) =>
      /transport|tls|certificate|connect|handshake/i.test(e.message),
    );
    assert.ok(handshakes.refused > before, 'the refusal happened in the TLS handshake');
  });

  test('a server certificate from another CA is not trusted', async () => {
    const other = generateTestPki();
    try {
      const settings = await readTemporalTls({ ...mtlsEnv(), TEMPORAL_TLS_CA_FILE: other.ca.certFile });
      await assert.rejects(NativeConnection.connect({ address, tls: settings! }), (e: Error) =>
        /transport|tls|certificate|connect|handshake|unknown/i.test(e.message),
      );
    } finally {
      other.remove();
    }
  });
});
