import { LATENCY_BUCKETS_SECONDS } from '@switchforge/platform/telemetry/buckets';
import { metrics } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';

const meter = metrics.getMeter('switchforge-api');
const requests = meter.createCounter('switchforge.api.operations', {
  description: 'GraphQL operations executed or subscribed, by operation type',
});
const errors = meter.createCounter('switchforge.api.operations.errors', {
  description: 'GraphQL operations whose result carried errors',
});
const duration = meter.createHistogram('switchforge.api.operation.duration', {
  advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
  description: 'Time to execute a query or mutation',
  unit: 's',
});

function operationType(document: { definitions: readonly { kind: string; operation?: string }[] }): string {
  return document.definitions.find((d) => d.kind === 'OperationDefinition')?.operation ?? 'unknown';
}

/** Operations, errors and latency as OTel metrics. */
export function useRequestMetrics(): Plugin {
  return {
    onExecute({ args }) {
      const type = operationType(args.document);
      const started = performance.now();
      requests.add(1, { 'graphql.operation.type': type });
      return {
        onExecuteDone({ result }) {
          duration.record((performance.now() - started) / 1000, { 'graphql.operation.type': type });
          if ('errors' in result && result.errors?.length) errors.add(1, { 'graphql.operation.type': type });
        },
      };
    },
    onSubscribe() {
      requests.add(1, { 'graphql.operation.type': 'subscription' });
    },
  };
}
