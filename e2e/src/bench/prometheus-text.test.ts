import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sumMetric } from './prometheus-text.js';

const exposition = `# HELP switchforge_gnmi_updates_received_total Samples decoded from gNMI updates and deletes
# TYPE switchforge_gnmi_updates_received_total counter
switchforge_gnmi_updates_received_total{device="ns/leaf1",otel_scope_name="switchforge-worker"} 1500 1764160000000
switchforge_gnmi_updates_received_total{device="ns/leaf2",note="a } brace"} 500
switchforge_gnmi_updates_received_total_extra 99
switchforge_worker_rows_written_total 1.5e3
`;

describe('summing a metric from a Prometheus scrape', () => {
  const cases: Array<[string, string, number]> = [
    [
      'adds every label set, ignoring timestamps and braces inside label values',
      'switchforge_gnmi_updates_received_total',
      2000,
    ],
    ['reads a metric without labels, in exponent notation', 'switchforge_worker_rows_written_total', 1500],
    ['is 0 for a metric that is absent', 'switchforge_worker_updates_dropped_total', 0],
  ];
  for (const [what, name, expected] of cases)
    test(what, () => assert.equal(sumMetric(exposition, name), expected));
});
