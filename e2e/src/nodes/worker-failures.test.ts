/**
 * What a real kubelet reports about a device worker that cannot run reaches the Device: an image
 * the node does not have, a worker that keeps exiting (with its last words), one killed for its
 * memory. Each is the Connected condition's reason and a Warning Event, not "WorkerPending".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { DeviceConditionReason } from '@switchforge/platform/crd';
import { loginSecret } from '../harness/manifests.js';
import { installCrds, startOperator, type OperatorHandle } from '../harness/platform-under-test.js';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { OUTSIDE_ADDRESS } from '@switchforge/testkit/nodes/addresses';
import { realNodeWorkerConfig } from '@switchforge/testkit/nodes/workloads';

interface Case {
  name: string;
  config: Record<string, string>;
  reason: DeviceConditionReason;
  message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'an image the node does not have',
    config: { SWITCHFORGE_WORKER_IMAGE: 'localhost/switchforge-absent:0' },
    reason: DeviceConditionReason.WorkerImageUnavailable,
    message: /ErrImageNeverPull/,
  },
  {
    name: 'a worker that keeps exiting',
    config: {
      SWITCHFORGE_WORKER_COMMAND: JSON.stringify([
        'node',
        '-e',
        'console.error("cannot open the credentials"); process.exit(3)',
      ]),
    },
    reason: DeviceConditionReason.WorkerCrashLooping,
    message: /exited with code 3: cannot open the credentials/,
  },
  {
    name: 'a worker killed for its memory',
    config: {
      SWITCHFORGE_WORKER_COMMAND: JSON.stringify([
        'node',
        '-e',
        'const held = []; setInterval(() => { for (let i = 0; i < 16; i++) held.push(Buffer.alloc(1 << 20, 1)); }, 10)',
      ]),
    },
    reason: DeviceConditionReason.WorkerOOMKilled,
    message: /exceeding its memory limit \(\d+Mi\)/,
  },
];

describe('a device worker that cannot run on a real node', () => {
  let infra: Infra;
  const run = randomBytes(3).toString('hex');
  const namespaceOf = (i: number) => `worker-failure-${run}-${i}`;
  const operators: OperatorHandle[] = [];

  before(async () => {
    infra = await useInfra({ kubernetes: true, nodes: true });
    await installCrds(infra);
    for (const [i, c] of CASES.entries()) {
      const namespace = namespaceOf(i);
      const docs = [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        loginSecret({ name: 'login', namespace }, 'u', 'p'),
        {
          apiVersion: 'switchforge.io/v1alpha1',
          kind: 'Device',
          metadata: { name: 'leaf1', namespace },
          spec: {
            address: OUTSIDE_ADDRESS,
            port: 9339,
            credentials: { secretRef: { name: 'login' } },
            tls: { skipVerify: true },
            subscriptions: [{ path: '/interfaces', mode: 'sample', sampleInterval: '10s' }],
          },
        },
      ];
      const r = await infra.kubernetes.kubectl(
        ['apply', '-f', '-'],
        docs.map((d) => JSON.stringify(d)).join('\n'),
      );
      assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      operators.push(
        await startOperator(infra, {
          namespace,
          databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
          config: { ...realNodeWorkerConfig(), ...c.config },
        }),
      );
    }
  });

  after(async () => {
    for (const o of operators) await o.stop();
    for (const i of CASES.keys())
      await infra?.kubernetes.kubectl(['delete', 'namespace', namespaceOf(i), '--wait=false']);
    await infra?.stop();
  });

  for (const [i, c] of CASES.entries()) {
    test(`${c.name} is the Device's Connected reason and a Warning Event`, async () => {
      const namespace = namespaceOf(i);
      let seen = '';
      await waitFor(
        `${c.reason} on the Device`,
        async () => {
          const r = await infra.kubernetes.kubectl([
            'get',
            'device',
            'leaf1',
            '-n',
            namespace,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Connected")].reason}|{.status.conditions[?(@.type=="Connected")].message}',
          ]);
          seen = r.stdout;
          return r.stdout.startsWith(`${c.reason}|`);
        },
        120_000,
        500,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; last seen: ${seen}`);
      });
      assert.match(seen, c.message);
      const events = await infra.kubernetes.kubectl([
        'get',
        'events',
        '-n',
        namespace,
        '--field-selector',
        `involvedObject.kind=Device,reason=${c.reason}`,
        '-o',
        'jsonpath={range .items[*]}{.type}{"\\n"}{end}',
      ]);
      assert.ok(
        events.stdout.split('\n').includes('Warning'),
        `a Warning Event ${c.reason}: ${events.stdout}`,
      );
    });
  }
});
