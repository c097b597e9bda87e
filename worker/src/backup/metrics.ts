import { metrics, type Counter, type Histogram } from '@opentelemetry/api';

export interface BackupInstruments {
  readonly runs: Counter;
  readonly duration: Histogram;
  readonly stored: Counter;
}

/** Created per service rather than at import, so they bind to the provider the process set up. */
export function backupInstruments(): BackupInstruments {
  const meter = metrics.getMeter('switchforge-worker');
  return {
    runs: meter.createCounter('switchforge.backup.runs', {
      description: 'Configuration backups attempted, by trigger and outcome (stored, unchanged, failed)',
    }),
    duration: meter.createHistogram('switchforge.backup.duration', {
      unit: 's',
      description: 'Time to fetch, normalize and store a configuration backup',
      // Backups take from a fraction of a second to minutes (large configurations, slow devices).
      advice: { explicitBucketBoundaries: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] },
    }),
    stored: meter.createCounter('switchforge.backup.stored', {
      description: 'Configuration versions stored because the configuration had changed',
    }),
  };
}
