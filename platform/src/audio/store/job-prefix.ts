import { AudioInputError } from '../input-error.js';
import { jobPrefix } from '../storage-layout.js';

/**
 * The job's `outputPrefix`, checked: it must lie under the job's own prefix (its namespace's area,
 * `jobs/<uid>`) so that deleting the job, and the janitor, find every file it wrote.
 */
export function ownPrefix(job: { namespace: string; jobUid: string; outputPrefix: string }): string {
  const own = jobPrefix(job.namespace, job.jobUid);
  const prefix = job.outputPrefix.replace(/\/+$/, '');
  const segments = prefix.split('/');
  if (
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    (prefix !== own && !prefix.startsWith(`${own}/`))
  )
    throw new AudioInputError(
      'InvalidArgument',
      `outputPrefix ${JSON.stringify(job.outputPrefix)} is not under ${own}/`,
    );
  return prefix;
}
