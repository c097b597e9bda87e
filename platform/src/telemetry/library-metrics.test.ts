/**
 * With the http and pg instrumentations on, a process's Prometheus endpoint serves the
 * semantic-convention metrics of an ESM-imported http server and pg pool: request durations,
 * query durations, and the pool's connections and waiting requests. Real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { useInfra, type Infra } from '@switchforge/testkit';
import { startTelemetry, type Telemetry } from './index.js';

let infra: Infra;
let telemetry: Telemetry;

before(async () => {
  infra = await useInfra({ postgres: true });
  telemetry = await startTelemetry({
    serviceName: 'library-metrics-test',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
    instrument: { http: true, pg: true },
  });
});

after(async () => {
  await telemetry?.shutdown();
  await infra?.stop();
});

const scrape = async () => (await fetch(`http://127.0.0.1:${telemetry.prometheusPort}/metrics`)).text();

test('an http server answers: http.server.request.duration by method, route status and scheme', async () => {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end('ok');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  try {
    await (await fetch(`http://127.0.0.1:${port}/graphql`)).text();
    await (await fetch(`http://127.0.0.1:${port}/missing`)).text();
  } finally {
    await new Promise((res) => server.close(res));
  }
  const text = await scrape();
  assert.match(
    text,
    /^http_server_request_duration_count\{[^}]*http_request_method="GET"[^}]*http_response_status_code="200"[^}]*\} 1$/m,
  );
  assert.match(text, /^http_server_request_duration_count\{[^}]*http_response_status_code="404"[^}]*\} 1$/m);
  assert.doesNotMatch(text, /http_route="\/metrics"|url_path="\/metrics"/, 'scrapes are not measured');
});

test('a pg pool queries: db.client.operation.duration, and the pool connections by state', async () => {
  const pool = new pg.Pool({ connectionString: infra.postgres.dsn, max: 2 });
  try {
    await Promise.all([1, 2, 3].map((n) => pool.query('SELECT $1::int AS n', [n])));
    const text = await scrape();
    assert.match(
      text,
      /^db_client_operation_duration_count\{[^}]*db_system(_name)?="postgresql"[^}]*\} [1-9]/m,
    );
    assert.match(text, /^db_client_connection_count\{[^}]*state="idle"[^}]*\} [1-9]/m);
    assert.match(text, /^db_client_connection_pending_requests\{/m);
  } finally {
    await pool.end();
  }
});
