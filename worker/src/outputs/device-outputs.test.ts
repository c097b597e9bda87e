import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { generateTestPki } from '@switchforge/simulators/certs';
import type { Sample } from '../device/sample.js';
import { DeviceOutputs } from './device-outputs.js';

const sample = (path: string, labels: Record<string, string>, value: Sample['value']): Sample => ({
  device: 'lab/leaf1',
  path,
  labels,
  value,
  timestampNs: 1n,
});

describe("a Device's Prometheus output", () => {
  const outputs = new DeviceOutputs({ device: 'lab/leaf1', host: '127.0.0.1' });
  after(() => outputs.close());
  const scrape = async () => (await fetch(`http://127.0.0.1:${outputs.prometheusPort}/metrics`)).text();

  test('serves the latest values as Prometheus text: counters typed counter, gauges and info series gauge', async () => {
    await outputs.configure({ stringsAsLabels: true, prometheus: { port: 0 } });
    outputs.record([
      sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 100),
      sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 250),
      sample('/interfaces/interface/state/oper-status', { name: 'Ethernet1' }, 'UP'),
      sample('/system/memory/state/used', {}, 5),
      sample('/system/state/hostname', {}, 'leaf "one"\\'),
    ]);
    const text = await scrape();
    assert.match(
      text,
      /# TYPE interfaces_interface_state_counters_in_octets counter\ninterfaces_interface_state_counters_in_octets\{name="Ethernet1",device="lab\/leaf1"\} 250\n/,
    );
    assert.match(
      text,
      /# TYPE interfaces_interface_state_oper_status_info gauge\ninterfaces_interface_state_oper_status_info\{name="Ethernet1",device="lab\/leaf1",value="UP"\} 1\n/,
    );
    assert.match(text, /system_memory_state_used\{device="lab\/leaf1"\} 5\n/);
    assert.match(text, /system_state_hostname_info\{device="lab\/leaf1",value="leaf \\"one\\"\\\\"\} 1\n/);
  });

  test('a changed prefix renames every series from the next samples on, in place', async () => {
    const port = outputs.prometheusPort;
    await outputs.configure({ metricPrefix: 'gnmi', prometheus: { port: 0 } });
    assert.equal(outputs.prometheusPort, port, 'the endpoint kept running');
    outputs.record([sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 300)]);
    const text = await scrape();
    assert.match(
      text,
      /^gnmi_interfaces_interface_state_counters_in_octets\{name="Ethernet1",device="lab\/leaf1"\} 300$/m,
    );
    assert.doesNotMatch(text, /^interfaces_/m);
  });

  test('the Lease lost, it serves no value until samples come again', async () => {
    outputs.leaseLost();
    assert.doesNotMatch(await scrape(), /^gnmi_interfaces_interface_state_counters_in_octets\{/m);
    outputs.record([sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 400)]);
    assert.match(await scrape(), /^gnmi_interfaces_interface_state_counters_in_octets\{[^}]*\} 400$/m);
  });

  test('turned off, the endpoint closes', async () => {
    const port = outputs.prometheusPort;
    await outputs.configure({ prometheus: { enabled: false } });
    assert.equal(outputs.prometheusPort, undefined);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
  });
});

describe("a Device's OTLP output", () => {
  test('posts OTLP/HTTP JSON to <endpoint>/v1/metrics on its interval, a counter as a monotonic Sum, and stops when turned off', async () => {
    const posts: string[] = [];
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      posts.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.setHeader('content-type', 'application/x-protobuf');
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const outputs = new DeviceOutputs({ device: 'lab/leaf1', host: '127.0.0.1' });
    try {
      await outputs.configure({ otlp: { endpoint, intervalSeconds: 1 } });
      outputs.record([sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 1)]);
      const deadline = Date.now() + 10_000;
      while (posts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(posts[0], 'POST /v1/metrics application/json');
      const metric = (
        JSON.parse(bodies[0]!) as {
          resourceMetrics: {
            scopeMetrics: {
              metrics: {
                name: string;
                sum?: {
                  isMonotonic: boolean;
                  dataPoints: { asDouble: number; attributes: { key: string }[] }[];
                };
              }[];
            }[];
          }[];
        }
      ).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
      assert.equal(metric.name, 'interfaces_interface_state_counters_in_octets');
      assert.equal(metric.sum?.isMonotonic, true);
      assert.equal(metric.sum?.dataPoints[0]?.asDouble, 1);
      assert.deepEqual(
        metric.sum?.dataPoints[0]?.attributes.map((a) => a.key),
        ['name', 'device'],
      );
      await outputs.configure(undefined);
      const seen = posts.length;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(posts.length, seen, 'no export after the output is off');
    } finally {
      await outputs.close();
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});

describe("a Device's OTLP output to an https receiver of a CA of its own", () => {
  test('verifies the receiver against the CA from spec.outputs.otlp.tls, and sends nothing to one it cannot verify', async () => {
    const pki = generateTestPki();
    const posts: string[] = [];
    const receiver = createHttpsServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
      posts.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const untrusted = new DeviceOutputs({ device: 'lab/leaf1', host: '127.0.0.1' });
    const trusted = new DeviceOutputs({ device: 'lab/leaf2', host: '127.0.0.1' });
    const record = (o: DeviceOutputs) =>
      o.record([sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 1)]);
    try {
      // The system roots do not know the test CA: the exports fail, nothing arrives.
      await untrusted.configure({ otlp: { endpoint, intervalSeconds: 1 } });
      record(untrusted);
      await new Promise((r) => setTimeout(r, 2_500));
      assert.deepEqual(posts, []);
      await untrusted.close();

      const spec = { otlp: { endpoint, intervalSeconds: 1, tls: { caSecretRef: { name: 'collector-ca' } } } };
      await trusted.configure(spec, { otlpCaPem: pki.ca.cert.toString() });
      record(trusted);
      const deadline = Date.now() + 10_000;
      while (posts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(posts[0], 'POST /v1/metrics');
    } finally {
      await Promise.all([untrusted.close(), trusted.close()]);
      await new Promise((r) => receiver.close(r));
      pki.remove();
    }
  });
});
