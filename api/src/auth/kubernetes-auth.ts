import { createHash } from 'node:crypto';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { metrics } from '@opentelemetry/api';
import { GROUP } from '@switchforge/platform/crd';
import { UnavailableError, errorMessage } from '@switchforge/platform/errors';
import { UnauthenticatedError } from '../errors.js';
import type { AccessRequest, Subject } from './subject.js';

const meter = metrics.getMeter('switchforge-api');
const reviews = meter.createCounter('switchforge.api.auth.reviews', {
  description: 'TokenReview and SubjectAccessReview calls made to the apiserver (cache misses)',
});

export interface KubernetesAuthOptions {
  /** How long a positive answer is reused. Short, so revoked tokens and RBAC changes apply soon. */
  ttlMs?: number;
  /** How long a denial or an invalid token is remembered (keeps floods off the apiserver). */
  negativeTtlMs?: number;
  maxEntries?: number;
  /** Audiences TokenReview must find in the token; the apiserver's default when unset. */
  audiences?: string[];
}

export interface Authenticator {
  authenticate(token: string): Promise<Subject>;
  authorize(subject: Subject, request: AccessRequest): Promise<boolean>;
}

type TokenAnswer = { ok: true; subject: Subject } | { ok: false; message: string };

/**
 * Bearer tokens checked with TokenReview and requests with SubjectAccessReview, as the apiserver
 * itself would, with the answers cached briefly in bounded LRUs keyed by a hash of the token (the
 * token itself is never kept).
 */
export class KubernetesAuthenticator implements Authenticator {
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly tokens: LRUCache<string, TokenAnswer>;
  private readonly decisions: LRUCache<string, boolean>;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly negativeTtlMs: number;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: KubernetesAuthOptions = {},
  ) {
    this.authn = kubeConfig.makeApiClient(AuthenticationV1Api);
    this.authz = kubeConfig.makeApiClient(AuthorizationV1Api);
    const ttl = options.ttlMs ?? 10_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 2_000;
    this.tokens = new LRUCache({ max: options.maxEntries ?? 10_000, ttl });
    this.decisions = new LRUCache({ max: (options.maxEntries ?? 10_000) * 4, ttl });
  }

  async authenticate(token: string): Promise<Subject> {
    const key = createHash('sha256').update(token).digest('base64url');
    const answer = this.tokens.get(key) ?? (await this.once(`t:${key}`, () => this.review(key, token)));
    if (!answer.ok) throw new UnauthenticatedError(answer.message);
    return answer.subject;
  }

  async authorize(subject: Subject, request: AccessRequest): Promise<boolean> {
    const key = JSON.stringify([
      subject.uid,
      subject.username,
      request.namespace ?? '',
      request.verb,
      request.resource,
    ]);
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    return this.once(`a:${key}`, async () => {
      const allowed = await this.accessReview(subject, request);
      this.decisions.set(key, allowed, allowed ? {} : { ttl: this.negativeTtlMs });
      return allowed;
    });
  }

  /** Concurrent misses for the same key share one apiserver call. */
  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key) as Promise<T> | undefined;
    if (existing) return existing;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async review(key: string, token: string): Promise<TokenAnswer> {
    reviews.add(1, { kind: 'TokenReview' });
    let answer: TokenAnswer;
    try {
      const r = await this.authn.createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(this.options.audiences ? { audiences: this.options.audiences } : {}) },
        },
      });
      const user = r.status?.user;
      answer =
        r.status?.authenticated && user?.username
          ? {
              ok: true,
              subject: {
                username: user.username,
                uid: user.uid ?? '',
                groups: user.groups ?? [],
                extra: user.extra ?? {},
              },
            }
          : { ok: false, message: r.status?.error ? `token rejected: ${r.status.error}` : 'token rejected' };
    } catch (e) {
      throw new UnavailableError(`TokenReview failed: ${errorMessage(e)}`, 'AuthUnavailable', { cause: e });
    }
    this.tokens.set(key, answer, answer.ok ? {} : { ttl: this.negativeTtlMs });
    return answer;
  }

  private async accessReview(subject: Subject, request: AccessRequest): Promise<boolean> {
    reviews.add(1, { kind: 'SubjectAccessReview' });
    try {
      const r = await this.authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: subject.username,
            uid: subject.uid,
            groups: subject.groups,
            extra: subject.extra,
            resourceAttributes: {
              group: request.group ?? GROUP,
              resource: request.resource,
              verb: request.verb,
              ...(request.namespace ? { namespace: request.namespace } : {}),
            },
          },
        },
      });
      return r.status?.allowed === true && r.status.denied !== true;
    } catch (e) {
      throw new UnavailableError(`SubjectAccessReview failed: ${errorMessage(e)}`, 'AuthUnavailable', {
        cause: e,
      });
    }
  }
}

/** `Authorization: Bearer <token>` (HTTP) or `{ authorization: 'Bearer <token>' }` (connection_init). */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
