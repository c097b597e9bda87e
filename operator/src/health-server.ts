import { createServer, type Server } from 'node:http';

/** `/healthz` (the process is alive) and `/readyz` (`ready()` says it can do its job). */
export async function startHealthServer(port: number, ready: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const ok = req.url === '/healthz' ? true : req.url === '/readyz' ? ready() : undefined;
    res.statusCode = ok === undefined ? 404 : ok ? 200 : 503;
    res.end(ok === undefined ? 'not found' : ok ? 'ok' : 'not ready');
  });
  await new Promise<void>((res) => server.listen(port, '0.0.0.0', res));
  return server;
}
