import { LRUCache } from 'lru-cache';
import { metrics } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';
import { RateLimitedError, toGraphQLError } from '../errors.js';
import type { Access } from '../auth/access.js';

const meter = metrics.getMeter('switchforge-api');
const limited = meter.createCounter('switchforge.api.requests.rate_limited', {
  description: 'Operations refused because their subject exceeded its rate',
});

export interface RateLimitOptions {
  /** Sustained operations per second per subject. */
  perSecond: number;
  /** Bucket size: how many may arrive at once. */
  burst: number;
  /** Subjects tracked at most (least recently seen forgotten first). */
  maxSubjects?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per subject (the authenticated Kubernetes user), in a bounded LRU. */
export class SubjectRateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.buckets = new LRUCache({ max: options.maxSubjects ?? 50_000 });
  }

  take(subject: string): boolean {
    const t = this.now();
    const b = this.buckets.get(subject) ?? { tokens: this.options.burst, at: t };
    b.tokens = Math.min(this.options.burst, b.tokens + ((t - b.at) / 1000) * this.options.perSecond);
    b.at = t;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(subject, b);
    return ok;
  }
}

/** Every operation (query, mutation, subscription start) spends one token of its subject. */
export function useRateLimit(limiter: SubjectRateLimiter): Plugin<{ access?: Access }> {
  const check = (access: Access | undefined) => {
    if (!access || limiter.take(access.subject.username)) return undefined;
    limited.add(1);
    return toGraphQLError(new RateLimitedError(`rate limit exceeded for ${access.subject.username}`));
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check((args.contextValue as { access?: Access }).access);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check((args.contextValue as { access?: Access }).access);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
