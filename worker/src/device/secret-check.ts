/**
 * Whether the Secrets a Device names hold what its protocol needs, told the way a user fixes it:
 * which Secret (namespace/name and the spec field that names it), which key, and what is wrong.
 * The worker sees its Secrets only as mounted files (the volumes are optional, so that a missing
 * Secret reaches this check instead of holding the pod in ContainerCreating): a missing Secret
 * and an empty one look alike, and a Secret's type shows only through its keys.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { DeviceConditionReason, type Device } from '@switchforge/platform/crd';
import { InputError } from '@switchforge/platform/errors';
import { parsePinnedHostKeys } from '../netconf/host-key.js';
import type { SecretMount } from '@switchforge/platform/device-worker';
import type { DeviceSecrets } from './device-secrets.js';

/** The Connected reasons a Secret problem shows as (declared once, in the platform). */
const SecretReason = {
  SecretNotFound: DeviceConditionReason.SecretNotFound,
  SecretKeyMissing: DeviceConditionReason.SecretKeyMissing,
  SecretInvalid: DeviceConditionReason.SecretInvalid,
} as const;
type SecretReason = (typeof SecretReason)[keyof typeof SecretReason];

export interface SecretProblem {
  reason: SecretReason;
  message: string;
}

interface Ref {
  mount: SecretMount;
  field: string;
  name: string;
  /** What kind of Secret belongs here, for the message. */
  wants: string;
}

function refsOf(device: Device): Ref[] {
  const spec = device.spec;
  const refs: Ref[] = [
    {
      mount: 'credentials',
      field: 'spec.credentials.secretRef',
      // The worker sees the merged spec (deviceAsCollected), where credentials are always set.
      name: spec.credentials?.secretRef.name ?? '',
      wants:
        spec.protocol === 'netconf'
          ? 'keys username and password, or username and ssh-privatekey'
          : 'keys username and password',
    },
  ];
  if (spec.tls?.caSecretRef)
    refs.push({
      mount: 'tlsCa',
      field: 'spec.tls.caSecretRef',
      name: spec.tls.caSecretRef.name,
      wants: 'key ca.crt',
    });
  if (spec.tls?.clientCertSecretRef)
    refs.push({
      mount: 'tlsClient',
      field: 'spec.tls.clientCertSecretRef',
      name: spec.tls.clientCertSecretRef.name,
      wants: 'type kubernetes.io/tls (keys tls.crt and tls.key)',
    });
  if (spec.ssh?.hostKeySecretRef)
    refs.push({
      mount: 'sshHostKey',
      field: 'spec.ssh.hostKeySecretRef',
      name: spec.ssh.hostKeySecretRef.name,
      wants: 'key known_hosts (or ssh-hostkey)',
    });
  return refs;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n', 1)[0]!;

/**
 * Parses an SSH private key, returning why it is unusable: injected so that ssh2 loads only with
 * the NETCONF collector (netconf/ssh-key.ts), never in a gNMI worker.
 */
export type SshKeyParser = (key: string) => Error | undefined;

/** The first problem with the Device's Secrets, or undefined when they hold what it needs. */
export function checkDeviceSecrets(
  device: Device,
  secrets: DeviceSecrets,
  sshKeyError: SshKeyParser,
): SecretProblem | undefined {
  const namespace = device.metadata.namespace ?? '';
  for (const ref of refsOf(device)) {
    const where = `Secret ${namespace}/${ref.name} (${ref.field})`;
    const keys = secrets.keys?.[ref.mount] ?? [];
    if (keys.length === 0)
      return {
        reason: SecretReason.SecretNotFound,
        message: `${where} does not exist or is empty; it needs ${ref.wants}`,
      };
    const missing = (key: string): SecretProblem => ({
      reason: SecretReason.SecretKeyMissing,
      message: `${where} has no key "${key}" (it has ${keys.join(', ')}); it needs ${ref.wants}`,
    });
    const invalid = (key: string, what: string, e?: unknown): SecretProblem => ({
      reason: SecretReason.SecretInvalid,
      message: `${where} key ${key} ${what}${e === undefined ? '' : `: ${firstLine(e)}`}`,
    });
    switch (ref.mount) {
      case 'credentials': {
        if (!secrets.username) return missing('username');
        if (device.spec.protocol !== 'netconf' || secrets.privateKey === undefined) {
          if (secrets.password === undefined) return missing('password');
          break;
        }
        const parsed = sshKeyError(secrets.privateKey);
        if (parsed) return invalid('ssh-privatekey', 'is not an SSH private key', parsed);
        break;
      }
      case 'tlsCa':
        if (secrets.caPem === undefined) return missing('ca.crt');
        try {
          new X509Certificate(secrets.caPem);
        } catch (e) {
          return invalid('ca.crt', 'is not a PEM certificate', e);
        }
        break;
      case 'tlsClient': {
        if (secrets.clientCertPem === undefined) return missing('tls.crt');
        if (secrets.clientKeyPem === undefined) return missing('tls.key');
        let cert: X509Certificate;
        try {
          cert = new X509Certificate(secrets.clientCertPem);
        } catch (e) {
          return invalid('tls.crt', 'is not a PEM certificate', e);
        }
        try {
          if (!cert.checkPrivateKey(createPrivateKey(secrets.clientKeyPem)))
            return invalid('tls.key', 'is not the private key of the certificate in tls.crt');
        } catch (e) {
          return invalid('tls.key', 'is not a PEM private key', e);
        }
        break;
      }
      case 'sshHostKey':
        if (secrets.hostKey === undefined) return missing('known_hosts');
        try {
          parsePinnedHostKeys(secrets.hostKey);
        } catch (e) {
          return invalid(
            keys.includes('known_hosts') ? 'known_hosts' : 'ssh-hostkey',
            'holds no SSH public key',
            e,
          );
        }
        break;
    }
  }
  return undefined;
}

/** Throws the problem as an InputError whose reason becomes the Connected condition's reason. */
export function requireUsableSecrets(
  device: Device,
  secrets: DeviceSecrets,
  sshKeyError: SshKeyParser,
): void {
  const problem = checkDeviceSecrets(device, secrets, sshKeyError);
  if (problem) throw new InputError(problem.message, problem.reason);
}
