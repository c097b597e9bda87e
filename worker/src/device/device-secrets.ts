import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET_MOUNTS, type SecretMount } from '@switchforge/platform/device-worker';
import { InputError } from '@switchforge/platform/errors';

export interface DeviceSecrets {
  /** The keys each mounted Secret holds (file names), for telling a user which one is missing. */
  keys?: Partial<Record<SecretMount, readonly string[]>>;
  username?: string;
  password?: string;
  privateKey?: string;
  caPem?: string;
  /** The OTLP output receiver's CA. */
  otlpCaPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  hostKey?: string;
}

/**
 * Reads the mounted Secret files. Credentials never come from the Device resource or the
 * environment; a mount root prefix lets the e2e pod runner lay the files out per pod.
 */
export async function readDeviceSecrets(
  mountRoot = process.env.SWITCHFORGE_MOUNT_ROOT ?? '',
): Promise<DeviceSecrets> {
  const read = async (dir: string, ...names: string[]): Promise<string | undefined> => {
    for (const name of names) {
      try {
        return (await readFile(join(mountRoot, dir, name), 'utf8')).replace(/\r?\n$/, '');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return undefined;
  };
  const keys: Partial<Record<SecretMount, readonly string[]>> = {};
  for (const mount of Object.keys(SECRET_MOUNTS) as SecretMount[]) {
    try {
      // The kubelet's own entries (..data, ..2024_...) start with two dots.
      keys[mount] = (await readdir(join(mountRoot, SECRET_MOUNTS[mount])))
        .filter((f) => !f.startsWith('..'))
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const secrets: DeviceSecrets = { keys };
  const assign = <K extends keyof DeviceSecrets>(key: K, value: string | undefined) => {
    if (value !== undefined) secrets[key] = value;
  };
  assign('username', await read(SECRET_MOUNTS.credentials, 'username'));
  assign('password', await read(SECRET_MOUNTS.credentials, 'password'));
  assign('privateKey', await read(SECRET_MOUNTS.credentials, 'ssh-privatekey'));
  assign('caPem', await read(SECRET_MOUNTS.tlsCa, 'ca.crt'));
  assign('otlpCaPem', await read(SECRET_MOUNTS.otlpCa, 'ca.crt'));
  assign('clientCertPem', await read(SECRET_MOUNTS.tlsClient, 'tls.crt'));
  assign('clientKeyPem', await read(SECRET_MOUNTS.tlsClient, 'tls.key'));
  assign('hostKey', await read(SECRET_MOUNTS.sshHostKey, 'ssh-hostkey', 'known_hosts', 'host-key'));
  return secrets;
}

export function requireUsername(secrets: DeviceSecrets): string {
  if (!secrets.username)
    throw new InputError('the credentials Secret has no "username" key', 'SecretInvalid');
  return secrets.username;
}
