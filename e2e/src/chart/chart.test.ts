/**
 * The Helm chart: it lints strictly, its CRDs are the repository's, its values are validated, it
 * renders the fast-failover defaults and the Grafana dashboards, and what it renders is accepted by
 * a real kube-apiserver (`helm template | kubectl apply --dry-run=server`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  APP_ROOT,
  AUDIO_PYTHON,
  AUDIO_PYTHON_CWD,
  DEFAULT_IMAGES,
  IMAGE_COMMANDS,
  IMAGE_UID,
} from '@switchforge/platform/image-layout';
import { repoRoot } from '@switchforge/testkit/paths';
import { useInfra, type Infra } from '@switchforge/testkit';
import { installCrds } from '../harness/platform-under-test.js';
import { chartDir, ensureHelm, find, helm, setArgs, template, releaseName, type Manifest } from './helm.js';

interface Container {
  name: string;
  image?: string;
  command?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: Record<string, unknown>;
}
interface PodSpecHolder {
  spec: {
    template: {
      spec: {
        containers: Container[];
        securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
        tolerations?: { key: string; tolerationSeconds?: number }[];
      };
    };
  };
}
const envOf = (d: Manifest) => {
  const c = (d as unknown as PodSpecHolder).spec.template.spec.containers[0]!;
  return new Map((c.env ?? []).map((e) => [e.name, e]));
};

/** Every optional feature on, for lint and render checks. */
const everything = {
  'temporal.tls.enabled': true,
  'temporal.tls.secretName': 'temporal-client',
  'telemetry.otlp.endpoint': 'http://otel-collector.observability.svc:4318',
  'networkPolicy.enabled': true,
  'serviceMonitor.enabled': true,
  'podMonitor.enabled': true,
  'audio.storageClaim': 'audio-files',
  'operator.watchNamespace': 'switches',
  'discovery.enabled': true,
  'inventory.enabled': true,
};

/** Stems in a bucket instead of on the volume, and source allow lists. */
const objectStorage = {
  'audio.storageMode': 'object',
  'audio.objectStorage.endpoint': 'http://s3.storage.svc:7070',
  'audio.objectStorage.publicEndpoint': 'https://s3.example.net',
  'audio.objectStorage.bucket': 'stems',
  'audio.objectStorage.credentialsSecret': 'audio-s3',
  'audio.sources.allowCidrs[0]': '10.20.0.0/16',
  'audio.sources.allowHosts[0]': 'media.internal.example',
  'audio.sources.clusterCidrs[0]': '10.96.0.0/12',
};

before(async () => {
  await ensureHelm();
});

describe('the switchforge chart', () => {
  test('passes helm lint --strict with the defaults and with every option on', async () => {
    for (const values of [{}, everything, { ...everything, ...objectStorage }]) {
      const r = await helm(['lint', '--strict', chartDir, ...setArgs(values)]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  test('ships exactly the CRDs of the repository crds/ folder, byte for byte', () => {
    const yamlIn = (dir: string) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort();
    const source = join(repoRoot, 'crds');
    const copies = join(chartDir, 'crds');
    assert.deepEqual(yamlIn(copies), yamlIn(source), 'the same CRD files');
    for (const f of yamlIn(source)) {
      assert.equal(
        readFileSync(join(copies, f), 'utf8'),
        readFileSync(join(source, f), 'utf8'),
        `charts/switchforge/crds/${f} differs from crds/${f}: copy it (cp crds/*.yaml charts/switchforge/crds/)`,
      );
    }
  });

  test('refuses to render without the database Secret, naming the value to set', async () => {
    const r = await helm(['template', releaseName, chartDir, ...setArgs({ 'database.existingSecret': '' })]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /database\.existingSecret/);
  });

  const rejected: [string, Record<string, string | number | boolean>, RegExp][] = [
    ['a lease shorter than 2 s', { 'deviceWorker.leaseSeconds': 1 }, /leaseSeconds/],
    ['an unknown value (a typo)', { 'operator.replica': 2 }, /replica/],
    ['a pull policy Kubernetes does not know', { 'image.pullPolicy': 'Sometimes' }, /pullPolicy/],
    ['an OTLP endpoint without a scheme', { 'telemetry.otlp.endpoint': 'collector:4318' }, /endpoint/],
    [
      'a pool cooldown that is not a duration',
      { 'audio.pool.scaleDownCooldown': 'soon' },
      /scaleDownCooldown/,
    ],
    ['a relative audio storage root', { 'audio.storageRoot': 'audio' }, /storageRoot/],
  ];
  for (const [what, values, message] of rejected) {
    test(`values.schema.json rejects ${what}`, async () => {
      const r = await helm(['template', releaseName, chartDir, ...setArgs(values)]);
      assert.notEqual(r.code, 0, 'rendered although invalid');
      assert.match(r.stderr, message);
    });
  }

  test('defaults to node-loss failover under 15 s: 8 s worker Leases and 10 s unreachable tolerations', async () => {
    const { manifests } = await template();
    const operator = find(manifests, 'Deployment', `${releaseName}-switchforge-operator`);
    const env = envOf(operator);
    const lease = Number(env.get('SWITCHFORGE_WORKER_LEASE_SECONDS')?.value);
    assert.equal(lease, 8);
    // A Lease lapses at most `lease` s after the last renewal; the operator then deletes the pod and
    // the new worker starts and takes the Lease: a few seconds on top.
    assert.ok(lease + 5 < 15, 'lease plus replacement time stays under 15 s');
    for (const name of ['operator', 'api']) {
      const d = find(
        manifests,
        'Deployment',
        `${releaseName}-switchforge-${name}`,
      ) as unknown as PodSpecHolder;
      const unreachable = d.spec.template.spec.tolerations?.find(
        (t) => t.key === 'node.kubernetes.io/unreachable',
      );
      assert.equal(
        unreachable?.tolerationSeconds,
        10,
        `${name} leaves an unreachable node after 10 s, not 300 s`,
      );
    }
    assert.ok(Number(env.get('SWITCHFORGE_LEADER_LEASE_SECONDS')?.value) <= 15);
  });

  test('hands the operator the database DSN, Temporal, telemetry and audio pool settings', async () => {
    const { manifests } = await template({
      ...everything,
      'audio.pool.maxReplicas': 9,
      'audio.pool.backlogThreshold': 3,
    });
    const env = envOf(find(manifests, 'Deployment', `${releaseName}-switchforge-operator`));
    assert.deepEqual(env.get('SWITCHFORGE_WORKER_DATABASE_URL')?.valueFrom?.secretKeyRef, {
      name: 'switchforge-db',
      key: 'url',
    });
    assert.equal(env.get('SWITCHFORGE_WORKER_DATABASE_URL')?.value, undefined, 'the DSN is never a literal');
    assert.deepEqual(JSON.parse(env.get('SWITCHFORGE_WORKER_COMMAND')!.value!), IMAGE_COMMANDS.deviceWorker);
    assert.deepEqual(JSON.parse(env.get('AUDIO_WORKER_COMMAND')!.value!), IMAGE_COMMANDS.audioWorker);
    assert.equal(env.get('TEMPORAL_ADDRESS')?.value, 'temporal-frontend.temporal.svc:7233');
    assert.equal(env.get('TEMPORAL_TLS_CERT_FILE')?.value, '/var/run/switchforge/temporal-tls/tls.crt');
    assert.equal(
      env.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value,
      'http://otel-collector.observability.svc:4318',
    );
    assert.equal(env.get('SWITCHFORGE_METRICS_PORT')?.value, '9464');
    assert.equal(env.get('AUDIO_POOL_ENABLED')?.value, 'true');
    assert.equal(env.get('AUDIO_POOL_MAX_REPLICAS')?.value, '9');
    assert.equal(env.get('AUDIO_POOL_BACKLOG_PER_REPLICA')?.value, '3');
    assert.equal(env.get('AUDIO_WORKER_DATABASE_SECRET')?.value, 'switchforge-db');
    assert.equal(env.get('AUDIO_STORAGE_CLAIM')?.value, 'audio-files');
    assert.equal(env.get('SWITCHFORGE_WATCH_NAMESPACE')?.value, 'switches');
  });

  test('leaves the audio pool to workers outside the cluster when audio.pool.enabled is false', async () => {
    const { manifests } = await template({ ...everything, 'audio.pool.enabled': false });
    const env = envOf(find(manifests, 'Deployment', `${releaseName}-switchforge-operator`));
    assert.equal(env.get('AUDIO_POOL_ENABLED')?.value, 'false');
    // The AudioJob controller still runs: jobs start workflows on the same Temporal queues.
    assert.equal(env.get('TEMPORAL_ADDRESS')?.value, 'temporal-frontend.temporal.svc:7233');
    assert.equal(env.get('AUDIO_STORAGE_CLAIM')?.value, 'audio-files');
  });

  test('sets only environment variables that the operator and the API read', async () => {
    const read = (files: string[]) => files.map((f) => readFileSync(join(repoRoot, f), 'utf8')).join('\n');
    // Read by the OpenTelemetry SDK or only expanded into other variables ($(POD_NAME)).
    const platform = new Set([
      'POD_NAME',
      'POD_NAMESPACE',
      'NODE_NAME',
      'OTEL_SERVICE_NAME',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    ]);
    // Temporal TLS: the chart mounts the Secret and names the files; no Temporal client reads them yet.
    const awaitingCode = new Set([
      'TEMPORAL_TLS_CA_FILE',
      'TEMPORAL_TLS_CERT_FILE',
      'TEMPORAL_TLS_KEY_FILE',
      'TEMPORAL_TLS_SERVER_NAME',
    ]);
    // Audio storage and source policy: read by the worker's modules the operator and the API share.
    const audio = ['platform/src/audio/store/store-config.ts', 'platform/src/audio/source-address-policy.ts'];
    const readers: [string, string][] = [
      [
        'operator',
        read([
          'operator/src/config.ts',
          'operator/src/audiojob/config.ts',
          'operator/src/operator.ts',
          ...audio,
        ]),
      ],
      ['api', read(['api/src/config.ts', ...audio])],
    ];
    for (const values of [everything, { ...everything, ...objectStorage }]) {
      const { manifests } = await template({ ...values, 'temporal.tls.serverName': 'temporal.example' });
      for (const [component, source] of readers) {
        for (const name of envOf(
          find(manifests, 'Deployment', `${releaseName}-switchforge-${component}`),
        ).keys()) {
          if (platform.has(name) || awaitingCode.has(name)) continue;
          assert.ok(
            new RegExp(`\\b${name}\\b`).test(source),
            `${component}: ${name} is read by no config schema`,
          );
        }
      }
    }
  });

  test("runs the images' compiled entry points, the images named by the chart's appVersion", async () => {
    const { manifests } = await template();
    const container = (name: string) =>
      (find(manifests, 'Deployment', `${releaseName}-switchforge-${name}`) as unknown as PodSpecHolder).spec
        .template.spec.containers[0]!;
    for (const name of ['operator', 'api'] as const) {
      assert.deepEqual(container(name).command, IMAGE_COMMANDS[name], name);
      assert.equal(container(name).workingDir, APP_ROOT);
      assert.equal(container(name).image, DEFAULT_IMAGES.app);
    }
    const env = envOf(find(manifests, 'Deployment', `${releaseName}-switchforge-operator`));
    assert.equal(env.get('SWITCHFORGE_WORKER_IMAGE')?.value, DEFAULT_IMAGES.app);
    assert.equal(env.get('AUDIO_WORKER_IMAGE')?.value, DEFAULT_IMAGES.audio);
    assert.equal(env.get('AUDIO_WORKER_PYTHON')?.value, AUDIO_PYTHON);
    assert.equal(env.get('AUDIO_WORKER_PYTHON_CWD')?.value, AUDIO_PYTHON_CWD);
    const tagged = await template({ 'image.repository': 'registry.example/sf', 'image.tag': 'dev' });
    const taggedEnv = envOf(find(tagged.manifests, 'Deployment', `${releaseName}-switchforge-operator`));
    assert.equal(taggedEnv.get('AUDIO_WORKER_IMAGE')?.value, 'registry.example/sf-audio:dev');
  });

  test('runs every container as non-root with a read-only root filesystem and no capabilities', async () => {
    const { manifests } = await template(everything);
    const deployments = manifests.filter((m) => m.kind === 'Deployment') as unknown as (Manifest &
      PodSpecHolder)[];
    assert.ok(deployments.length >= 2);
    for (const d of deployments) {
      const pod = d.spec.template.spec.securityContext;
      assert.equal(pod?.runAsNonRoot, true, d.metadata.name);
      assert.equal(pod?.runAsUser, IMAGE_UID, `${d.metadata.name} runs as the images' user`);
      for (const c of d.spec.template.spec.containers) {
        assert.deepEqual(
          c.securityContext,
          { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          `${d.metadata.name}/${c.name}`,
        );
      }
    }
  });

  test('ships each dashboard as a ConfigMap labelled for the Grafana sidecar', async () => {
    const { manifests } = await template();
    const files = readdirSync(join(chartDir, 'dashboards'))
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.deepEqual(files, [
      'api.json',
      'audio-pipelines.json',
      'collector-health.json',
      'switch-overview.json',
    ]);
    const maps = manifests.filter(
      (m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard === '1',
    );
    assert.equal(maps.length, files.length);
    for (const f of files) {
      const map = maps.find((m) => (m as unknown as { data: Record<string, string> }).data[f] !== undefined);
      assert.ok(map, `a ConfigMap carries ${f}`);
      const data = (map as unknown as { data: Record<string, string> }).data[f]!;
      assert.deepEqual(JSON.parse(data), JSON.parse(readFileSync(join(chartDir, 'dashboards', f), 'utf8')));
    }
    const off = await template({ 'dashboards.enabled': false });
    assert.equal(off.manifests.filter((m) => m.kind === 'ConfigMap').length, 0);
  });
});

describe('the rendered chart on a real kube-apiserver', () => {
  let infra: Infra;
  const ns = `chart-${randomBytes(3).toString('hex')}`;

  before(async () => {
    infra = await useInfra({ kubernetes: true });
    await installCrds(infra);
    const r = await infra.kubernetes.kubectl(['create', 'namespace', ns]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await infra?.kubernetes.kubectl(['delete', 'namespace', ns, '--wait=false']);
    await infra?.stop();
  });

  // ServiceMonitor and PodMonitor need the Prometheus Operator's CRDs, which this cluster lacks.
  const variants: [string, Record<string, string | number | boolean>][] = [
    ['the defaults', {}],
    [
      'every option but the Prometheus Operator monitors',
      { ...everything, 'serviceMonitor.enabled': false, 'podMonitor.enabled': false },
    ],
    ['Devices only (no Temporal, no API)', { 'temporal.enabled': false, 'api.enabled': false }],
  ];
  for (const [what, values] of variants) {
    test(`accepts ${what} with kubectl apply --dry-run=server`, async () => {
      const { yaml, manifests } = await template(values, ns);
      const r = await infra.kubernetes.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], yaml);
      assert.equal(r.code, 0, r.stderr);
      const accepted = r.stdout.split('\n').filter((l) => /\(server dry run\)$/.test(l));
      assert.equal(accepted.length, manifests.length, r.stdout);
    });
  }
});
