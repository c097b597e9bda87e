/**
 * The CRDs against a real kube-apiserver: they become Established, the examples are admitted with
 * their defaults, `kubectl get` shows the printer columns, and every manifest in crds/invalid is
 * rejected with the message its `# expect:` line names.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { useInfra, type Infra } from '@switchforge/testkit';

const crdsDir = new URL('../../../crds/', import.meta.url);
const path = (relative: string) => fileURLToPath(new URL(relative, crdsDir));

interface InvalidCase {
  file: string;
  expect: string;
  manifest: string;
}

/** Each file in crds/invalid starts with `# expect: <text the server's error must contain>`. */
function invalidCases(): InvalidCase[] {
  return readdirSync(path('invalid/'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const manifest = readFileSync(path(`invalid/${file}`), 'utf8');
      const expect = /^# expect: (.+)$/m.exec(manifest.split('\n', 1)[0] ?? '')?.[1]?.trim();
      if (!expect) throw new Error(`crds/invalid/${file} does not start with "# expect: ..."`);
      return { file, expect, manifest };
    });
}

describe('Device, DeviceProfile and AudioJob CRDs on a real apiserver', () => {
  const cases = invalidCases();
  const namespace = `crds-${randomBytes(4).toString('hex')}`;
  let infra: Infra;

  const kubectl = async (args: string[], input?: string) => infra.kubernetes.kubectl(args, input);
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  };
  const getJson = async (resource: string): Promise<{ spec: Record<string, unknown> }> =>
    JSON.parse(await ok(['get', resource, '-n', namespace, '-o', 'json'])) as { spec: Record<string, unknown> };

  before(async () => {
    infra = await useInfra({ kubernetes: true });
    await ok(['create', 'namespace', namespace]);
  });

  after(async () => {
    if (!infra) return;
    await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    await infra.stop();
  });

  it('the CRDs are accepted and become Established', async () => {
    await ok([
      'apply',
      '-f',
      path('device.yaml'),
      '-f',
      path('audiojob.yaml'),
      '-f',
      path('devicediscovery.yaml'),
      '-f',
      path('deviceprofile.yaml'),
      '-f',
      path('deviceinventory.yaml'),
    ]);
    await ok([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/devices.switchforge.io',
      'crd/audiojobs.switchforge.io',
      'crd/devicediscoveries.switchforge.io',
      'crd/deviceprofiles.switchforge.io',
      'crd/deviceinventories.switchforge.io',
    ]);
  });

  it('the example gNMI and NETCONF Devices and the example AudioJob are admitted', async () => {
    for (const file of [
      'device-gnmi.yaml',
      'device-netconf.yaml',
      'audiojob.yaml',
      'deviceprofile.yaml',
      'deviceinventory.yaml',
    ]) {
      await ok(['apply', '-n', namespace, '-f', path(`examples/${file}`)]);
    }
  });

  it('the apiserver fills in the schema defaults', async () => {
    const leaf1 = await getJson('device/leaf1');
    assert.deepEqual(leaf1.spec.tls, {
      insecure: false,
      skipVerify: false,
      caSecretRef: { name: 'lab-switch-ca' },
      clientCertSecretRef: { name: 'leaf1-client-cert' },
      serverName: 'leaf1.lab.example.net',
    });
    const spine1 = await getJson('device/spine1');
    assert.deepEqual(spine1.spec.ssh, { hostKeySecretRef: { name: 'spine1-hostkey' }, hostKeyVerification: 'Strict' });
    assert.deepEqual(spine1.spec.backup, { enabled: true, schedule: '@daily' });
    const job = await getJson('audiojob/demo-track');
    assert.deepEqual(job.spec.timeouts, { download: '10m', separate: '30m', analyze: '5m' });
    assert.equal(job.spec.cancel, false);
    assert.deepEqual((job.spec.stages as { separate: unknown }).separate, {
      model: 'htdemucs',
      stems: 'two-stem',
      twoStem: 'vocals',
      shifts: 2,
      overlap: 0.25,
      device: 'auto',
    });
  });

  it('kubectl get devices,audiojobs shows the printer columns, fed from the status subresource', async () => {
    const status = {
      status: {
        phase: 'Connected',
        observedGeneration: 1,
        workerPod: 'leaf1-worker-abc',
        lastSampleTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        conditions: [
          {
            type: 'Connected',
            status: 'True',
            reason: 'SessionEstablished',
            message: 'gNMI subscription active',
            lastTransitionTime: '2025-01-01T00:00:00Z',
          },
        ],
      },
    };
    await ok(['patch', '-n', namespace, 'device/leaf1', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    await ok([
      'patch',
      '-n',
      namespace,
      'audiojob/demo-track',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', stage: 'separate', progress: 42 } }),
    ]);

    const out = await ok(['get', 'devices,audiojobs', '-n', namespace]);
    const lines = out.split('\n');
    const header = (prefix: string) => lines.find((l) => l.startsWith('NAME') && lines[lines.indexOf(l) + 1]?.startsWith(prefix));
    const deviceHeader = header('device.switchforge.io/');
    const jobHeader = header('audiojob.switchforge.io/');
    assert.match(deviceHeader ?? '', /^NAME\s+PROTOCOL\s+ADDRESS\s+CONNECTED\s+REASON\s+LAST SAMPLE\s+AGE$/, out);
    assert.match(jobHeader ?? '', /^NAME\s+PHASE\s+STAGE\s+PROGRESS\s+AGE$/, out);
    assert.match(out, /device\.switchforge\.io\/leaf1\s+gnmi\s+leaf1\.lab\.example\.net\s+True\s+SessionEstablished\s+\d+s\s+/);
    // No status yet: CONNECTED, REASON and LAST SAMPLE are blank, AGE follows.
    assert.match(out, /device\.switchforge\.io\/spine1\s+netconf\s+192\.0\.2\.11\s+\d+s\n/);
    assert.match(out, /audiojob\.switchforge\.io\/demo-track\s+Running\s+separate\s+42\s+/);
  });

  it('a Device naming a profile needs neither a protocol nor credentials, and none is defaulted in', async () => {
    const leaf2 = await getJson('device/leaf2');
    assert.deepEqual(leaf2.spec, { address: '192.0.2.21', profileRef: { name: 'lab-gnmi-leaf' } });
    const profile = await getJson('deviceprofile/lab-gnmi-leaf');
    assert.deepEqual(profile.spec.tls, { insecure: false, skipVerify: false, caSecretRef: { name: 'lab-gnmi-ca' } });
  });

  it('kubectl get devprof shows the Devices count from the status subresource', async () => {
    await ok([
      'patch',
      '-n',
      namespace,
      'deviceprofile/lab-gnmi-leaf',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          devices: 2,
          updatedDevices: 1,
          observedGeneration: 1,
          conditions: [
            {
              type: 'RolledOut',
              status: 'False',
              reason: 'Progressing',
              message: '1 of 2 Devices run generation 1',
              lastTransitionTime: '2026-12-04T00:00:00Z',
            },
          ],
        },
      }),
    ]);
    const out = await ok(['get', 'devprof', '-n', namespace]);
    assert.match(out, /^NAME\s+PROTOCOL\s+DEVICES\s+UPDATED\s+ROLLED OUT\s+AGE\n/, out);
    assert.match(out, /\nlab-gnmi-leaf\s+gnmi\s+2\s+1\s+False\s+\d+s\n/, out);
    const wide = await ok(['get', 'dev', '-n', namespace, '-o', 'wide']);
    assert.match(wide, /\nleaf2\s+192\.0\.2\.21\s+lab-gnmi-leaf\s+/, wide);
  });

  it('the short names dev and aj resolve', async () => {
    assert.match(await ok(['get', 'dev', '-n', namespace, '-o', 'name']), /device\.switchforge\.io\/leaf1/);
    assert.match(await ok(['get', 'aj', '-n', namespace, '-o', 'name']), /audiojob\.switchforge\.io\/demo-track/);
  });

  it("an AudioJob's source cannot change after creation, and a cancel cannot be undone", async () => {
    const source = await kubectl([
      'patch',
      '-n',
      namespace,
      'audiojob/demo-track',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { source: { url: 'https://media.example.com/other.wav' } } }),
    ]);
    assert.notEqual(source.code, 0);
    assert.match(source.stderr, /spec\.source: Invalid value: "object": source is immutable/);

    const cancel = (value: boolean) =>
      kubectl(['patch', '-n', namespace, 'audiojob/demo-track', '--type=merge', '-p', JSON.stringify({ spec: { cancel: value } })]);
    assert.equal((await cancel(true)).code, 0);
    const resume = await cancel(false);
    assert.notEqual(resume.code, 0);
    assert.match(resume.stderr, /spec\.cancel: Invalid value: "boolean": a cancelled AudioJob cannot be resumed/);
  });

  it(`crds/invalid holds at least 10 distinct invalid manifests (${cases.length})`, () => {
    assert.ok(cases.length >= 10);
    assert.equal(new Set(cases.map((c) => c.expect)).size, cases.length, 'each names a different error');
  });

  for (const { file, expect, manifest } of cases) {
    it(`rejects invalid/${file}, naming the field: ${expect}`, async () => {
      const r = await kubectl(['apply', '-n', namespace, '-f', '-'], manifest);
      assert.notEqual(r.code, 0, `the apiserver admitted invalid/${file}:\n${r.stdout}`);
      assert.ok(r.stderr.includes(expect), `invalid/${file}: expected the error to contain\n  ${expect}\nbut got\n  ${r.stderr}`);
      // Invalid for that one reason only: every listed cause names the same field (the apiserver
      // adds a note when schema errors kept it from running the CEL rules).
      const field = expect.split(': ', 1)[0] ?? expect;
      const causes = r.stderr.split('\n').filter((l) => l.startsWith('* '));
      const others = causes.filter((l) => !l.startsWith(`* ${field}: `) && !l.includes('some validation rules were not checked'));
      assert.deepEqual(others, [], `invalid/${file} is also invalid for other reasons`);
    });
  }
});
