/**
 * The lab's media server: the files of one folder over HTTP on 127.0.0.1, as a user's track
 * store would serve them, for AudioJob sources (`npm run up` allows this address explicitly:
 * loopback is refused by default).
 *   node --import tsx e2e/src/local/media-server.ts --dir DIR --port P
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { parseArgs } from 'node:util';

const TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

const { values } = parseArgs({
  options: { dir: { type: 'string' }, port: { type: 'string', default: '0' } },
  strict: true,
});
if (!values.dir) {
  process.stderr.write('usage: media-server.ts --dir DIR [--port P]\n');
  process.exit(2);
}
const root = values.dir;

const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
  if (path.split('/').includes('..')) return void res.writeHead(400).end();
  const file = join(root, path);
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    return void res.writeHead(404).end();
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': size,
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ listening: `127.0.0.1:${port}`, port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
