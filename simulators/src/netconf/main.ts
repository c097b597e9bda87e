/**
 * CLI for the NETCONF simulator:
 *   node --import tsx simulators/src/netconf/main.ts --port 8300 --interfaces 4 \
 *     --username netconf --password secret
 * Runs until SIGINT/SIGTERM. Prints one JSON line once listening: the port and the host key's
 * public half (an OpenSSH line), which a Device pins through its `ssh.hostKeySecretRef`.
 */
import { parseArgs } from 'node:util';
import { startNetconfSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    interfaces: { type: 'string', default: '4' },
    username: { type: 'string', default: 'admin' },
    password: { type: 'string', default: 'admin' },
  },
  strict: true,
});

function int(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  const sim = await startNetconfSimulator({
    host: values.host!,
    port: int('port', values.port),
    interfaces: int('interfaces', values.interfaces),
    username: values.username!,
    password: values.password!,
  });
  process.stdout.write(
    `${JSON.stringify({ listening: `${values.host}:${sim.port}`, port: sim.port, hostKey: sim.hostKey })}\n`,
  );
  const stop = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`netconf simulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
