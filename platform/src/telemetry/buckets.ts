/**
 * Histogram buckets for sub-second latencies, in seconds: the SDK's defaults (0, 5, 10, 25, ...)
 * would put every batch, reconcile and request in the first bucket.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
