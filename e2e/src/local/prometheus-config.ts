/**
 * Prometheus on this machine for `npm run up`: the host's own processes (the audio worker) on
 * loopback, and every pod that asks to be scraped (`prometheus.io/scrape`), found through the
 * kube-apiserver and scraped through its pod proxy: the pod network is not routed to the machine
 * (network rules), the apiserver's egress into it is.
 */
import type { KubernetesInfo } from '@switchforge/testkit/kubernetes';

export function prometheusConfig(
  k: Pick<KubernetesInfo, 'kubeconfig' | 'pki' | 'apiPort'>,
  hostTargets: string[],
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
    '    kubernetes_sd_configs:',
    `      - { role: pod, kubeconfig_file: ${JSON.stringify(k.kubeconfig)} }`,
    '    relabel_configs:',
    '      - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], regex: "true", action: keep }',
    '      - { source_labels: [__meta_kubernetes_pod_phase], regex: Running, action: keep }',
    `      - { target_label: __address__, replacement: "127.0.0.1:${k.apiPort}" }`,
    '      - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_name, __meta_kubernetes_pod_annotation_prometheus_io_port]',
    '        regex: "(.+);(.+);(.+)"',
    '        replacement: "/api/v1/namespaces/$1/pods/$2:$3/proxy/metrics"',
    '        target_label: __metrics_path__',
    '      - { source_labels: [__meta_kubernetes_namespace], target_label: namespace }',
    '      - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }',
    '      - { source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_component], target_label: component }',
    '',
  ].join('\n');
}
