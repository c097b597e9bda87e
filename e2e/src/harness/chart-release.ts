/**
 * The Helm chart's own workloads on the local control plane: `helm template` with values that
 * point at the local servers, applied with kubectl, so the operator and API Deployments go the
 * real Deployment → ReplicaSet → Pod → scheduled path and the pod runner starts their container
 * commands (the image's `/app/<component>/dist/main.js`, run here as `<component>/src/main.ts`
 * under tsx: see e2e/src/infra/local-command.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartDir, ensureHelm, helm } from '../chart/helm.js';
import type { Infra } from '@switchforge/testkit';

export const RELEASE = 'sf';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef: { fieldPath: string } };
}

/**
 * Environment the pod runner needs where Kubernetes gives each pod its own network namespace:
 * here all pods share the host's, so listeners either bind the pod's own loopback address or
 * pick a free port. Later entries win over the chart's own (as in the kubelet).
 */
export const SHARED_HOST_ENV = {
  operator: [
    { name: 'SWITCHFORGE_HEALTH_PORT', value: '0' },
    { name: 'SWITCHFORGE_METRICS_PORT', value: '0' },
  ],
  api: [
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'SWITCHFORGE_API_HOST', value: '$(POD_IP)' },
    { name: 'SWITCHFORGE_METRICS_PORT', value: '0' },
  ],
} satisfies Record<string, EnvVar[]>;

/** Renders the chart with `values` (merged over its defaults) and applies it in `namespace`. */
export async function installChart(infra: Infra, namespace: string, values: object): Promise<void> {
  await ensureHelm();
  const dir = mkdtempSync(join(tmpdir(), 'switchforge-chart-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    const rendered = await helm(['template', RELEASE, chartDir, '--namespace', namespace, '-f', file]);
    if (rendered.code !== 0) throw new Error(`helm template: ${rendered.stderr}`);
    const applied = await infra.kubernetes.kubectl(['apply', '-n', namespace, '-f', '-'], rendered.stdout);
    if (applied.code !== 0) throw new Error(`applying the chart: ${applied.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
