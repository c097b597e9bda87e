/**
 * Where audio lives in shared storage, the same for the volume (paths under its root) and object
 * storage (keys in the bucket): every namespace has its own area, and a job's files are under its
 * namespace's area. The operator, the workers, the janitor and the API all read this one module.
 *
 *   namespaces/<namespace>/                  what a job of <namespace> may name as storagePath
 *   namespaces/<namespace>/jobs/<uid>/input/  the fetched source
 *   namespaces/<namespace>/jobs/<uid>/stems/  the separator's stems
 *
 * Pure string logic: no file system, no client.
 */
import { AudioInputError } from './input-error.js';

export const NAMESPACES_DIR = 'namespaces';
export const JOBS_DIR = 'jobs';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const UID = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

/** `namespaces/<ns>`: the only part of storage a job of `ns` can reach. */
export function namespaceArea(namespace: string): string {
  if (!NAMESPACE.test(namespace))
    throw new AudioInputError(
      'InvalidArgument',
      `namespace ${JSON.stringify(namespace)} is not a namespace name`,
    );
  return `${NAMESPACES_DIR}/${namespace}`;
}

/** The storage prefix the operator puts in `outputPrefix` for a job. */
export function jobPrefix(namespace: string, jobUid: string): string {
  if (!UID.test(jobUid))
    throw new AudioInputError('InvalidArgument', `job uid ${JSON.stringify(jobUid)} is not a uid`);
  return `${namespaceArea(namespace)}/${JOBS_DIR}/${jobUid}`;
}

export const inputKey = (prefix: string, fileName: string): string => `${prefix}/input/${fileName}`;
export const stemsPrefix = (prefix: string): string => `${prefix}/stems`;

/**
 * A user-given path (`spec.source.storagePath`) as a storage key inside its namespace's area.
 * Refused, not normalised: absolute paths, `..` and `.` segments, empty segments, backslashes and
 * control characters. Symlinks are the volume's business (checked where the path is opened).
 */
export function keyInNamespace(namespace: string, userPath: string): string {
  const segments = userPath.split('/');
  const bad =
    userPath === '' ||
    userPath.startsWith('/') ||
    userPath.includes('\\') ||
    [...userPath].some((c) => c.charCodeAt(0) < 0x20) ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw outsideArea(userPath, namespace);
  return `${namespaceArea(namespace)}/${userPath}`;
}

/** Whether `key` lies inside `prefix` (a folder), compared segment-wise. */
export function keyWithin(prefix: string, key: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return key === p || key.startsWith(`${p}/`);
}

/** The namespace and job of a key under some job's prefix, or undefined. */
export function jobOfKey(key: string): { namespace: string; uid: string } | undefined {
  const [top, namespace, jobs, uid] = key.split('/');
  if (top !== NAMESPACES_DIR || jobs !== JOBS_DIR || !namespace || !uid) return undefined;
  return NAMESPACE.test(namespace) && UID.test(uid) ? { namespace, uid } : undefined;
}

export function outsideArea(path: string, namespace: string): AudioInputError {
  return new AudioInputError(
    'PathOutsideStorage',
    `path ${JSON.stringify(path)} is outside namespace ${namespace}'s audio storage`,
  );
}
