/**
 * The relay between the machine's loopback and the local cluster's network namespace. The two
 * have no network link (network rules: nothing inside the cluster may route out of it), so the
 * relay carries TCP through Unix sockets, which cross namespaces because they are files.
 *
 *   relay.ts host --socket S
 *     In the machine's namespace. Each connection on S names a loopback port in its first line
 *     ("PORT\n"); the relay connects to 127.0.0.1:PORT and carries the bytes. Nothing but
 *     127.0.0.1 can be reached through it.
 *   relay.ts netns --socket S --address A --control C --connect K --allow CIDR [--allow CIDR] [--port P ...]
 *     In the cluster namespace. Listens on A:P for each port (more through `PUT /ports/P` on the
 *     control socket C) and carries each connection to the host side as 127.0.0.1:P. Serves
 *     HTTP CONNECT on K for the kube-apiserver's egress to kubelets and pods, only into the CIDRs.
 */
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { inCidr } from './addresses.js';

function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}

function listenUnix(server: Server, path: string): Promise<void> {
  rmSync(path, { force: true });
  server.listen(path);
  return once(server, 'listening').then(() => undefined);
}

/** Reads the "PORT\n" header, then hands the rest of the stream on. */
function readHeader(socket: Socket): Promise<{ port: number; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(10);
      if (end < 0) {
        if (buffered.length > 16) fail(new Error('relay header too long'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const port = Number(buffered.subarray(0, end).toString('ascii'));
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        return fail(new Error('relay header names no port'));
      resolve({ port, rest: buffered.subarray(end + 1) });
    };
    const fail = (e: Error): void => {
      socket.off('data', onData);
      reject(e);
    };
    socket.on('data', onData);
    socket.once('error', fail);
  });
}

async function runHost(socketPath: string): Promise<void> {
  const server = createServer((inbound) => {
    readHeader(inbound).then(
      ({ port, rest }) => {
        const outbound = connect({ host: '127.0.0.1', port });
        if (rest.length > 0) outbound.write(rest);
        splice(inbound, outbound);
        inbound.resume();
      },
      () => inbound.destroy(),
    );
  });
  await listenUnix(server, socketPath);
}

async function runNetns(options: {
  socket: string;
  address: string;
  control: string;
  connect: string;
  allow: readonly string[];
  ports: number[];
}): Promise<void> {
  const listeners = new Map<number, Server>();
  const expose = async (port: number): Promise<void> => {
    if (listeners.has(port)) return;
    const server = createServer((inbound) => {
      const outbound = connect({ path: options.socket });
      outbound.write(`${port}\n`);
      splice(inbound, outbound);
    });
    listeners.set(port, server);
    server.listen({ host: options.address, port });
    await once(server, 'listening');
  };
  for (const p of options.ports) await expose(p);

  // PUT /ports/P exposes a port; GET /ports lists them.
  const control = createHttpServer((req, res) => {
    const m = /^\/ports\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'PUT' && m) {
      const port = Number(m[1]);
      expose(port).then(
        () => res.writeHead(204).end(),
        (e: Error) => res.writeHead(500).end(e.message),
      );
      return;
    }
    if (req.method === 'GET' && req.url === '/ports') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([...listeners.keys()]));
      return;
    }
    res.writeHead(404).end();
  });
  await listenUnix(control, options.control);

  // The kube-apiserver's egress (EgressSelectorConfiguration, HTTPConnect over a Unix socket).
  const egress = createHttpServer((_req, res) => res.writeHead(405).end());
  egress.on('connect', (req, client: Socket, head: Buffer) => {
    const target = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(req.url ?? '');
    if (!target || !options.allow.some((cidr) => inCidr(target[1] ?? '', cidr))) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const outbound = connect({ host: target[1], port: Number(target[2]) }, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) outbound.write(head);
      splice(client, outbound);
    });
    outbound.once('error', (e) => client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${e.message}`));
  });
  await listenUnix(egress, options.connect);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    socket: { type: 'string' },
    address: { type: 'string' },
    control: { type: 'string' },
    connect: { type: 'string' },
    allow: { type: 'string', multiple: true },
    port: { type: 'string', multiple: true },
  },
});
const mode = positionals[0];
if (mode === 'host' && values.socket) {
  await runHost(values.socket);
} else if (
  mode === 'netns' &&
  values.socket &&
  values.address &&
  values.control &&
  values.connect &&
  values.allow?.length
) {
  await runNetns({
    socket: values.socket,
    address: values.address,
    control: values.control,
    connect: values.connect,
    allow: values.allow,
    ports: (values.port ?? []).map(Number),
  });
} else {
  process.stderr.write(
    'usage: relay.ts host --socket S | netns --socket S --address A --control C --connect K --allow CIDR... [--port P]\n',
  );
  process.exit(2);
}
process.stdout.write(`relay ${mode} ready\n`);
