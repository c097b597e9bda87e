/**
 * Keeps a Prometheus file_sd list of the cluster's scrapable pods (`prometheus.io/scrape`), each
 * reached through the kube-apiserver's pod proxy: Debian's Prometheus is built without the
 * Kubernetes service discovery, and the pod network is not routed to the machine (network
 * rules), the apiserver's egress into it is.
 *   node --import tsx e2e/src/local/pod-targets.ts --kubeconfig K --api-port P --out targets.json
 */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { binary } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';

interface PodList {
  items: {
    metadata: {
      name: string;
      namespace: string;
      annotations?: Record<string, string>;
      labels?: Record<string, string>;
    };
    status: { phase?: string };
  }[];
}

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** One target group per scrapable running pod, addressed to the apiserver's proxy for it. */
export function podTargetGroups(pods: PodList, apiPort: number): TargetGroup[] {
  return pods.items
    .filter(
      (p) => p.metadata.annotations?.['prometheus.io/scrape'] === 'true' && p.status.phase === 'Running',
    )
    .map((p) => ({
      targets: [`127.0.0.1:${apiPort}`],
      labels: {
        __metrics_path__: `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}:${p.metadata.annotations?.['prometheus.io/port'] ?? '9464'}/proxy/metrics`,
        namespace: p.metadata.namespace,
        pod: p.metadata.name,
        component: p.metadata.labels?.['app.kubernetes.io/component'] ?? '',
      },
    }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      'api-port': { type: 'string' },
      out: { type: 'string' },
      interval: { type: 'string', default: '10' },
    },
    strict: true,
  });
  if (!values.kubeconfig || !values['api-port'] || !values.out) {
    throw new Error('usage: pod-targets.ts --kubeconfig K --api-port P --out FILE [--interval S]');
  }
  for (;;) {
    const r = await run(
      binary('kubectl'),
      ['--kubeconfig', values.kubeconfig, 'get', 'pods', '-A', '-o', 'json'],
      {
        timeoutMs: 30_000,
      },
    );
    if (r.code === 0) {
      const groups = podTargetGroups(JSON.parse(r.stdout) as PodList, Number(values['api-port']));
      // Written whole, then renamed: Prometheus never reads half a file.
      writeFileSync(`${values.out}.tmp`, JSON.stringify(groups, null, 2));
      renameSync(`${values.out}.tmp`, values.out);
    } else {
      process.stderr.write(`kubectl get pods: ${r.stderr}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, Number(values.interval) * 1000));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    process.stderr.write(`pod-targets: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  });
}
