/**
 * From a DeviceDiscovery and its Secrets to what each probe needs: the login, the gNMI channel
 * security, the pinned SSH host keys per target. Secrets are read here and nowhere else, and a
 * missing Secret or key is an error naming it.
 */
import { parsePinnedHostKeys, type PinnedHostKey } from '@switchforge/platform/ssh/host-key';
import { InputError } from '@switchforge/platform/errors';
import type { DeviceDiscoverySpec } from '@switchforge/platform/crd';
import type { ProbeLogin, ProbeTls } from './gnmi-probe.js';

/** A Secret's data, or undefined when it does not exist. */
export type SecretReader = (namespace: string, name: string) => Promise<Record<string, Buffer> | undefined>;

export interface ProbeSettings {
  login: ProbeLogin;
  tls: ProbeTls;
  /** Known host lines, or `disabled`; undefined without a netconf probe. */
  hostKeys?: string | 'disabled';
}

/** A Secret a discovery or an inventory needs is missing, or lacks a key. */
export class DiscoverySecretError extends InputError {
  constructor(message: string, reason: 'SecretNotFound' | 'SecretKeyMissing' | 'SecretForbidden') {
    super(message, reason);
  }
}

/** The Secret's data; a DiscoverySecretError naming it when it does not exist. */
export async function requireSecret(
  read: SecretReader,
  namespace: string,
  name: string,
): Promise<Record<string, Buffer>> {
  const data = await read(namespace, name);
  if (!data) throw new DiscoverySecretError(`Secret ${namespace}/${name} not found`, 'SecretNotFound');
  return data;
}

/** The first of `names` the Secret holds; a DiscoverySecretError naming them when none. */
export function secretKey(data: Record<string, Buffer>, secretName: string, ...names: string[]): Buffer {
  for (const n of names) if (data[n] !== undefined) return data[n];
  throw new DiscoverySecretError(`Secret ${secretName} has no key ${names.join(' or ')}`, 'SecretKeyMissing');
}

export async function probeSettings(
  spec: DeviceDiscoverySpec,
  namespace: string,
  read: SecretReader,
): Promise<ProbeSettings> {
  const credsName = spec.credentialsSecretRef.name;
  const creds = await requireSecret(read, namespace, credsName);
  const username = secretKey(creds, credsName, 'username').toString('utf8');
  const password = creds.password?.toString('utf8');
  const privateKey = creds['ssh-privatekey'];
  if (password === undefined && privateKey === undefined)
    throw new DiscoverySecretError(
      `Secret ${credsName} has no key password or ssh-privatekey`,
      'SecretKeyMissing',
    );
  const login: ProbeLogin = {
    username,
    ...(password !== undefined ? { password } : {}),
    ...(privateKey !== undefined ? { privateKey } : {}),
  };

  const t = spec.deviceTemplate?.tls;
  let tls: ProbeTls;
  if (t?.insecure) {
    tls = { mode: 'insecure' };
  } else {
    const ca = t?.caSecretRef
      ? secretKey(await requireSecret(read, namespace, t.caSecretRef.name), t.caSecretRef.name, 'ca.crt')
      : undefined;
    const client = t?.clientCertSecretRef
      ? await requireSecret(read, namespace, t.clientCertSecretRef.name)
      : undefined;
    tls = {
      mode: 'tls',
      ...(ca ? { ca } : {}),
      ...(client && t?.clientCertSecretRef
        ? {
            cert: secretKey(client, t.clientCertSecretRef.name, 'tls.crt'),
            key: secretKey(client, t.clientCertSecretRef.name, 'tls.key'),
          }
        : {}),
      ...(t?.serverName ? { serverName: t.serverName } : {}),
      ...(t?.skipVerify ? { skipVerify: true } : {}),
    };
  }

  let hostKeys: ProbeSettings['hostKeys'];
  if (spec.probes.some((p) => p.protocol === 'netconf')) {
    const ssh = spec.deviceTemplate?.ssh;
    if (ssh?.hostKeyVerification === 'Disabled') hostKeys = 'disabled';
    else if (ssh?.hostKeySecretRef) {
      const name = ssh.hostKeySecretRef.name;
      hostKeys = secretKey(
        await requireSecret(read, namespace, name),
        name,
        'known_hosts',
        'ssh-hostkey',
      ).toString('utf8');
    } else {
      // The schema requires one of the two; an old object stored before that rule lands here.
      throw new DiscoverySecretError(
        'a netconf probe needs deviceTemplate.ssh.hostKeySecretRef',
        'SecretNotFound',
      );
    }
  }
  return { login, tls, ...(hostKeys !== undefined ? { hostKeys } : {}) };
}

/**
 * The pinned keys that apply to one target. known_hosts lines name their hosts (`host,host2 key`
 * or `[host]:port key`); a line for other hosts does not apply, so that one switch's key cannot
 * vouch for another. A line without host names (a bare key) applies to every target.
 */
export function pinnedKeysFor(knownHosts: string, address: string, port: number): PinnedHostKey[] {
  const lines = knownHosts.split(/\r?\n/).filter((line) => {
    const fields = line.trim().split(/\s+/);
    const first = fields[0] ?? '';
    if (first === '' || first.startsWith('#')) return false;
    const isKeyType = /^(ssh-|ecdsa-|sk-|rsa-)/.test(first) || /^[A-Za-z0-9+/]{16,}={0,2}$/.test(first);
    if (isKeyType) return true;
    const hosts = first.split(',');
    return hosts.includes(address) || hosts.includes(`[${address}]:${port}`);
  });
  if (lines.length === 0) return [];
  try {
    return parsePinnedHostKeys(lines.join('\n'));
  } catch {
    return [];
  }
}
