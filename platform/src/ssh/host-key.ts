/**
 * Pinned SSH host keys, as they come from a Secret: OpenSSH public key lines
 * (`ssh-ed25519 AAAA... comment`), known_hosts lines (`host ssh-ed25519 AAAA...`), or bare base64
 * key blobs; one or more, one a line. Comparison is on the raw key blob.
 */
import { timingSafeEqual } from 'node:crypto';

export interface PinnedHostKey {
  /** The key's algorithm name as encoded in the blob (`ssh-ed25519`, `ssh-rsa`, ...). */
  readonly type: string;
  readonly blob: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** Parses pinned keys; throws an Error naming the bad line when nothing usable is found. */
export function parsePinnedHostKeys(text: string): PinnedHostKey[] {
  const keys: PinnedHostKey[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line
      .trim()
      .split(/\s+/)
      .filter((f) => f.length > 0);
    if (fields.length === 0 || fields[0]?.startsWith('#')) continue;
    // The blob is the first base64 field whose embedded type is a plausible key algorithm.
    for (const field of fields) {
      if (!BASE64.test(field) || field.length < 16) continue;
      const blob = Buffer.from(field, 'base64');
      const type = blobType(blob);
      if (type && /^(ssh-|ecdsa-|sk-|rsa-)/.test(type)) {
        keys.push({ type, blob });
        break;
      }
    }
  }
  if (keys.length === 0) throw new Error('no SSH public key found in the pinned host key');
  return keys;
}

export function matchesPinned(pinned: readonly PinnedHostKey[], presented: Buffer): boolean {
  return pinned.some((k) => k.blob.length === presented.length && timingSafeEqual(k.blob, presented));
}

/** Host key algorithms to ask for first, so the server presents the pinned key's kind. */
export function preferredHostKeyAlgorithms(pinned: readonly PinnedHostKey[]): string[] {
  const out: string[] = [];
  for (const { type } of pinned) {
    const algs = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
    for (const a of algs) if (!out.includes(a)) out.push(a);
  }
  return out;
}
