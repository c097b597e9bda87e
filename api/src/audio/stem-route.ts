import type { Request, RequestHandler, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AudioJob } from '@switchforge/platform/crd';
import { NotFoundError, errorMessage, isSwitchforgeError } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { bearerToken, type Authenticator } from '../auth/kubernetes-auth.js';
import type { SupervisedInformer } from '@switchforge/platform/kube';
import { UnauthenticatedError, errorCode } from '../errors.js';
import { fileName, type StemFiles } from './stem-files.js';

export interface StemRouteDeps {
  readonly auth: Authenticator;
  readonly jobs: SupervisedInformer<AudioJob>;
  readonly stems: StemFiles;
  readonly origin: (req: Request) => string;
}

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };

/**
 * `GET /audio/v1/namespaces/:namespace/audiojobs/:name/stems/:stem`: a stem's bytes for a caller
 * with the same bearer token and RBAC as GraphQL (`get audiojobs` in the job's namespace).
 * Volume mode streams the file; object storage redirects to a short-lived presigned URL.
 */
export function stemRoute(deps: StemRouteDeps): RequestHandler {
  return (req, res) => void serve(deps, req, res);
}

async function serve(deps: StemRouteDeps, req: Request, res: Response): Promise<void> {
  const { namespace, name, stem: stemName } = req.params as Record<string, string>;
  try {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new UnauthenticatedError('a bearer token is required (Authorization: Bearer <token>)');
    const subject = await deps.auth.authenticate(token);
    if (!(await deps.auth.authorize(subject, { verb: 'get', resource: 'audiojobs', namespace }))) {
      res.status(403).json({ error: `${subject.username} may not get audiojobs in namespace ${namespace}` });
      return;
    }
    const job = deps.jobs.get(name!, namespace);
    const stem = job?.status?.results?.stems?.find((s) => s.name === stemName);
    if (!job?.metadata.uid || !stem)
      throw new NotFoundError(`audiojob ${namespace}/${name} has no stem ${stemName}`);
    const owner = { namespace: namespace!, name: name!, uid: job.metadata.uid };
    if (deps.stems.mode === 'object') {
      const link = await deps.stems.link(owner, stem, deps.origin(req));
      res.redirect(302, link!.url);
      return;
    }
    const { stream, bytes } = await deps.stems.open(owner, stem);
    res.status(200).set({
      'content-type': stem.contentType ?? 'application/octet-stream',
      'content-length': String(bytes),
      'content-disposition': `attachment; filename="${fileName(stem)}"`,
      'cache-control': 'private, no-store',
      ...(stem.sha256 ? { 'x-content-sha256': stem.sha256 } : {}),
    });
    await pipeline(stream, res);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = isSwitchforgeError(e) ? (STATUS[errorCode(e)] ?? 500) : 500;
    if (status === 500)
      log.warn('stem download failed', { namespace, name, stem: stemName, error: errorMessage(e) });
    res.status(status).json({ error: status === 500 ? 'internal error' : errorMessage(e) });
  }
}
