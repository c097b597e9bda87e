/**
 * The configuration files of one real node: containerd (its CRI plugin), the CNI network of its
 * pods, the kubelet and kube-proxy. Pure functions of the node's plan, so that what a node runs
 * with reads in one place; ../../../../shared/REAL-NODE.md names why each setting is needed here.
 */
import { CLUSTER_DOMAIN, DNS_ADDRESS, POD_NETWORK } from './addresses.js';

export interface NodePlan {
  name: string;
  index: number;
  /** Everything the node writes lives under this folder. */
  dir: string;
  nodeIp: string;
  podCidr: string;
  podGateway: string;
  /** The cgroup (in every v1 hierarchy) that holds all the node's pods, e.g. `/sf1a2b-n0`. */
  cgroupRoot: string;
  pauseImage: string;
  containerdSocket: string;
  kubeletKubeconfig: string;
  kubeProxyKubeconfig: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
  /** The pods' "host" resolv.conf (dnsPolicy Default): the project's, never the machine's. */
  resolvConf: string;
  kubeletPort: number;
}

export function containerdConfig(plan: NodePlan): string {
  const d = plan.dir;
  return `version = 2
root = "${d}/containerd/root"
state = "${d}/containerd/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
oom_score = 0

[grpc]
  address = "${plan.containerdSocket}"

[ttrpc]
  address = "${plan.containerdSocket}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${plan.pauseImage}"
  # The sandbox lacks CAP_SYS_RESOURCE: without this every pod fails in runc create.
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "${d}/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${d}/cni/net.d"
`;
}

/** The pods' network: a bridge in the node's namespace, addresses from the node's /24. */
export function cniConfig(plan: NodePlan): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'switchforge',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // kube-proxy masquerades Service traffic itself (masqueradeAll); pods keep their address
          // towards each other.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: plan.podCidr, gateway: plan.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: `${plan.dir}/cni/ipam`,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(plan: NodePlan): string {
  return JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: plan.nodeIp,
      port: plan.kubeletPort,
      readOnlyPort: 0,
      healthzPort: 0,
      tlsCertFile: plan.servingCert,
      tlsPrivateKeyFile: plan.servingKey,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: plan.caCert },
      },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: `unix://${plan.containerdSocket}`,
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: true,
      cgroupRoot: plan.cgroupRoot,
      enforceNodeAllocatable: ['pods'],
      failSwapOn: false,
      makeIPTablesUtilChains: false,
      protectKernelDefaults: false,
      clusterDNS: [DNS_ADDRESS],
      clusterDomain: CLUSTER_DOMAIN,
      resolvConf: plan.resolvConf,
      podLogsDir: `${plan.dir}/pod-logs`,
      volumePluginDir: `${plan.dir}/volume-plugins`,
      // The images are imported, not pulled: nothing may collect them, and a full disk elsewhere
      // on the machine must not evict the pods under test.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      serializeImagePulls: false,
      maxPods: 60,
      nodeStatusUpdateFrequency: '4s',
      nodeLeaseDurationSeconds: 10,
      shutdownGracePeriod: '0s',
      fileCheckFrequency: '0s',
      staticPodPath: '',
      logging: { format: 'text', verbosity: 1 },
    },
    null,
    2,
  );
}

export function kubeProxyConfig(plan: NodePlan): string {
  return JSON.stringify(
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: plan.kubeProxyKubeconfig },
      mode: 'iptables',
      hostnameOverride: plan.name,
      bindAddress: plan.nodeIp,
      clusterCIDR: POD_NETWORK,
      healthzBindAddress: '',
      // The node's own loopback (its namespace's): a fixed port clashes with nothing.
      metricsBindAddress: '127.0.0.1:10249',
      // Pods on one bridge answer each other directly, so without br_netfilter a Service's reply
      // would skip the reverse NAT: masquerading all Service traffic keeps it symmetric.
      iptables: { masqueradeAll: true, syncPeriod: '10s', minSyncPeriod: '0s', localhostNodePorts: false },
      // 0 leaves the conntrack sysctls as they are: kube-proxy may not set the machine's.
      conntrack: {
        maxPerCore: 0,
        min: 0,
        tcpEstablishedTimeout: '0s',
        tcpCloseWaitTimeout: '0s',
      },
      nodePortAddresses: [plan.nodeIp + '/32'],
    },
    null,
    2,
  );
}

/** A kubeconfig with a client certificate, for a node's kubelet or kube-proxy. */
export function clientKubeconfig(server: string, caCert: string, cert: string, key: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caCert}`,
    'users:',
    '- name: node',
    '  user:',
    `    client-certificate: ${cert}`,
    `    client-key: ${key}`,
    'contexts:',
    '- name: local',
    '  context: { cluster: local, user: node }',
    'current-context: local',
    '',
  ].join('\n');
}
