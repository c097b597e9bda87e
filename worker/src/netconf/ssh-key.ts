import ssh2 from 'ssh2';

/** Why an SSH private key cannot be used (ssh2's own parser, the one the session uses), or undefined. */
export function sshKeyError(key: string): Error | undefined {
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error ? parsed : undefined;
}
