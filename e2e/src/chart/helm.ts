/**
 * The chart under test and the real helm (built from its Go module by e2e/infra/build-binaries.sh),
 * rendering it to parsed documents.
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { binary, repoRoot } from '@switchforge/testkit/paths';
import { run, type CommandResult } from '@switchforge/testkit/processes';

export const chartDir = join(repoRoot, 'charts/switchforge');
export const releaseName = 'sf';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Builds helm once (cached); a fresh machine takes a few minutes. */
export async function ensureHelm(): Promise<string> {
  const r = await run('bash', [join(repoRoot, 'e2e/infra/build-binaries.sh'), 'helm'], {
    timeoutMs: 20 * 60_000,
  });
  if (r.code !== 0) throw new Error(`building helm: ${r.stderr.slice(-2000)}`);
  return binary('helm');
}

export function helm(args: string[]): Promise<CommandResult> {
  return run(binary('helm'), args, { timeoutMs: 120_000 });
}

/** `--set`-style values (a.b=c), always with the one required value unless it is overridden. */
export function setArgs(values: Record<string, string | number | boolean>): string[] {
  const all = { 'database.existingSecret': 'switchforge-db', ...values };
  return Object.entries(all).flatMap(([k, v]) => [
    typeof v === 'string' ? '--set-string' : '--set',
    `${k}=${v}`,
  ]);
}

export async function template(
  values: Record<string, string | number | boolean> = {},
  namespace = 'switchforge-system',
): Promise<{ yaml: string; manifests: Manifest[] }> {
  const r = await helm(['template', releaseName, chartDir, '--namespace', namespace, ...setArgs(values)]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const manifests = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { yaml: r.stdout, manifests };
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return m;
}
