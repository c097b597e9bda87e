/**
 * Prometheus on this machine for `npm run up`: the host's own processes (the audio worker) on
 * loopback, and the pods pod-targets.ts lists, scraped through the kube-apiserver's pod proxy
 * with the cluster's admin certificate.
 */
import type { KubernetesInfo } from '@switchforge/testkit/kubernetes';

export function prometheusConfig(
  k: Pick<KubernetesInfo, 'pki'>,
  hostTargets: string[],
  podTargetsFile: string,
): string {
  const tls = `{ ca_file: ${JSON.stringify(k.pki.caCert)}, cert_file: ${JSON.stringify(k.pki.adminCert)}, key_file: ${JSON.stringify(k.pki.adminKey)} }`;
  return [
    'global: { scrape_interval: 5s }',
    'scrape_configs:',
    '  - job_name: switchforge-host',
    `    static_configs: [{ targets: ${JSON.stringify(hostTargets)} }]`,
    '  - job_name: switchforge-pods',
    '    scheme: https',
    `    tls_config: ${tls}`,
    `    file_sd_configs: [{ files: [${JSON.stringify(podTargetsFile)}], refresh_interval: 10s }]`,
    '',
  ].join('\n');
}
