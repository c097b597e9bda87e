import { NotAllowedError } from '@switchforge/platform/errors';
import type { AccessRequest, Subject } from './subject.js';
import type { Authenticator } from './kubernetes-auth.js';

/**
 * What one caller may do, asked per namespace and verb. Resolvers use it to refuse
 * (`require`) or to filter lists to the namespaces the caller may see (`visibleNamespaces`).
 */
export class Access {
  constructor(
    readonly subject: Subject,
    private readonly auth: Authenticator,
  ) {}

  can(request: AccessRequest): Promise<boolean> {
    return this.auth.authorize(this.subject, request);
  }

  async require(request: AccessRequest): Promise<void> {
    if (!(await this.can(request))) {
      const where = request.namespace ? ` in namespace ${request.namespace}` : ' cluster-wide';
      throw new NotAllowedError(
        `${this.subject.username} may not ${request.verb} ${request.resource}${where}`,
      );
    }
  }

  /** Namespaces among `candidates` where the caller may `verb` the resource (all, if allowed cluster-wide). */
  async visibleNamespaces(
    verb: AccessRequest['verb'],
    resource: AccessRequest['resource'],
    candidates: Iterable<string>,
  ): Promise<Set<string>> {
    const all = new Set(candidates);
    if (await this.can({ verb, resource })) return all;
    const checks = await Promise.all(
      [...all].map(async (ns) => [ns, await this.can({ verb, resource, namespace: ns })] as const),
    );
    return new Set(checks.filter(([, ok]) => ok).map(([ns]) => ns));
  }
}
