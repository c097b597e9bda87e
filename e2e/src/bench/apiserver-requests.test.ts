import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseApiserverRequests, perUnit, requestDelta } from './apiserver-requests.js';

const scrape = (devicesPatch: number, deploymentsApply: number) =>
  [
    '# HELP apiserver_request_total [STABLE] Counter of apiserver requests',
    '# TYPE apiserver_request_total counter',
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="switchforge.io",resource="devices",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} ${devicesPatch}`,
    `apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} ${deploymentsApply}`,
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 1`,
    'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 7',
    'apiserver_request_duration_seconds_bucket{verb="GET",le="0.1"} 99',
  ].join('\n');

describe("the apiserver's request counts", () => {
  test('are summed over codes by verb and resource/subresource', () => {
    const counts = parseApiserverRequests(scrape(3, 10));
    assert.equal(counts.get('PATCH devices/status'), 3);
    assert.equal(counts.get('APPLY deployments'), 11);
    assert.equal(counts.get('LIST pods'), 7);
    assert.equal(counts.size, 3, 'other metrics are not requests');
  });

  test('per Device, writes and reads of the named resources only, between two scrapes', () => {
    const delta = requestDelta(parseApiserverRequests(scrape(3, 10)), parseApiserverRequests(scrape(13, 30)));
    assert.deepEqual(
      [...delta],
      [
        ['PATCH devices/status', 10],
        ['APPLY deployments', 20],
      ],
    );
    const per = perUnit(delta, 10, ['devices', 'deployments', 'pods']);
    assert.equal(per.writes, 3);
    assert.equal(per.reads, 0);
    assert.equal(per.writeList, 'APPLY deployments 2.00, PATCH devices/status 1.00');
  });
});
