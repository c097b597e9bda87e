/**
 * The lab `npm run up` gives a newcomer: the Secrets and Devices of three simulated gNMI switches
 * and a NETCONF one, a GraphQL user who may read them, and an AudioJob of a local track. Pods
 * reach the simulators on OUTSIDE_ADDRESS, as a user's cluster reaches switches outside it.
 */
import { OUTSIDE_ADDRESS } from '@switchforge/testkit/nodes/addresses';

export const LAB_NAMESPACE = 'lab';
/** The ServiceAccount whose token the printed GraphQL example uses. */
export const LAB_USER = 'lab-user';
export const LAB_GNMI_LOGIN = { username: 'telemetry', password: 'lab-password' } as const;
export const LAB_NETCONF_LOGIN = { username: 'netconf', password: 'lab-netconf' } as const;

export interface LabSwitches {
  /** One simulated gNMI switch per port, one Device each (leaf1, leaf2, …). */
  gnmiPorts: readonly number[];
  caCert: string;
  netconfPort: number;
  /** The NETCONF simulator's host key (OpenSSH line), pinned by spine1. */
  netconfHostKey: string;
}

type Manifest = Record<string, unknown>;

const secret = (name: string, stringData: Record<string, string>, type?: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: LAB_NAMESPACE },
  ...(type ? { type } : {}),
  stringData,
});

export function labManifests(lab: LabSwitches): Manifest[] {
  const leaves = lab.gnmiPorts.map((port, i) => ({
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name: `leaf${i + 1}`, namespace: LAB_NAMESPACE },
    spec: {
      address: OUTSIDE_ADDRESS,
      port,
      protocol: 'gnmi',
      credentials: { secretRef: { name: 'lab-login' } },
      tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
      subscriptions: [
        { path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '5s' },
        { path: '/interfaces/interface[name=*]/state/oper-status', mode: 'on-change' },
        { path: '/components/component[name=*]/cpu', mode: 'sample', sampleInterval: '10s' },
      ],
      labels: { site: 'local', role: 'leaf' },
    },
  }));
  const spine = {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name: 'spine1', namespace: LAB_NAMESPACE },
    spec: {
      address: OUTSIDE_ADDRESS,
      port: lab.netconfPort,
      protocol: 'netconf',
      credentials: { secretRef: { name: 'spine1-login' } },
      ssh: { hostKeySecretRef: { name: 'spine1-hostkey' } },
      subscriptions: [
        {
          name: 'interfaces',
          filter: { type: 'subtree', value: '<interfaces xmlns="http://openconfig.net/yang/interfaces"/>' },
          interval: '10s',
        },
      ],
      labels: { site: 'local', role: 'spine' },
    },
  };
  return [
    secret('lab-login', { ...LAB_GNMI_LOGIN }),
    secret('lab-ca', { 'ca.crt': lab.caCert }),
    secret('spine1-login', { ...LAB_NETCONF_LOGIN }),
    secret('spine1-hostkey', { known_hosts: `${lab.netconfHostKey}\n` }),
    ...leaves,
    spine,
    ...labUser(),
  ];
}

/** A ServiceAccount that may read the lab's Devices and AudioJobs (the API checks with RBAC). */
function labUser(): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: LAB_USER, namespace: LAB_NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'lab-reader', namespace: LAB_NAMESPACE },
      rules: [
        {
          apiGroups: ['switchforge.io'],
          resources: ['devices', 'audiojobs'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'lab-user-reader', namespace: LAB_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lab-reader' },
      subjects: [{ kind: 'ServiceAccount', name: LAB_USER, namespace: LAB_NAMESPACE }],
    },
  ];
}

/** The example AudioJob: a track on the machine's local media server, the default model. */
export function demoAudioJob(sourceUrl: string): Manifest {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'AudioJob',
    metadata: { name: 'demo', namespace: LAB_NAMESPACE },
    spec: {
      source: { url: sourceUrl },
      stages: {
        separate: { model: 'htdemucs', stems: 'all' },
        analyze: { features: ['tempo', 'key', 'loudness'] },
      },
    },
  };
}
