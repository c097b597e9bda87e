import { metrics } from '@opentelemetry/api';
import { LATENCY_BUCKETS_SECONDS } from '../telemetry/buckets.js';

/**
 * What the database upkeep (rollup refresh, day partitions) exports. Recorded only by the
 * process that did the work (the advisory locks pick one), so sums across replicas are exact.
 * Created on first use, so they bind to the meter provider the process's telemetry set up.
 */
function create() {
  const meter = metrics.getMeter('switchforge-db');
  const instruments = {
    rollupRefreshDuration: meter.createHistogram('switchforge.db.rollup.refresh.duration', {
      description:
        'Time one metric rollup refresh took, by result (ok, error; skipped: another replica holds the lock)',
      unit: 's',
      advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_SECONDS] },
    }),
    rollupRangesAggregated: meter.createCounter('switchforge.db.rollup.ranges.aggregated', {
      description:
        'Minute ranges re-aggregated into the metric rollup (watermark advances and invalidated late rows)',
    }),
    partitionsCreated: meter.createCounter('switchforge.db.partitions.created', {
      description: 'Day partitions of metric_samples created ahead of time',
    }),
    partitionsDropped: meter.createCounter('switchforge.db.partitions.dropped', {
      description: 'Day partitions of metric_samples dropped by retention',
    }),
    /** The rollup watermark as this process last saw it (absent until it refreshed). */
    watermark: null as Date | null,
  };
  meter
    .createObservableGauge('switchforge.db.rollup.watermark.lag', {
      description: 'How far the metric rollup watermark is behind now; queries read raw samples after it',
      unit: 's',
    })
    .addCallback((result) => {
      if (instruments.watermark) result.observe((Date.now() - instruments.watermark.getTime()) / 1000);
    });
  return instruments;
}

let instruments: ReturnType<typeof create> | undefined;
export function maintenanceMetrics(): ReturnType<typeof create> {
  return (instruments ??= create());
}
