/**
 * CLI for the gNMI simulator:
 *   node --import tsx simulators/src/gnmi/main.ts --port 57400 --devices 10 --rate 0 --insecure
 *   ... --tls-cert server.crt --tls-key server.key [--tls-ca ca.crt] [--username u --password p]
 * Runs until SIGINT/SIGTERM. Prints one JSON line with the port once listening.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGnmiSimulator, type GnmiSimulatorOptions } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    devices: { type: 'string', default: '1' },
    interfaces: { type: 'string', default: '8' },
    rate: { type: 'string', default: '0' },
    'batch-size': { type: 'string', default: '1000' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    insecure: { type: 'boolean', default: false },
    username: { type: 'string' },
    password: { type: 'string' },
  },
  strict: true,
});

function int(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  const tlsGiven = values['tls-cert'] !== undefined || values['tls-key'] !== undefined;
  if (tlsGiven === values.insecure) throw new Error('give either --tls-cert and --tls-key, or --insecure');
  if (tlsGiven && (!values['tls-cert'] || !values['tls-key']))
    throw new Error('--tls-cert and --tls-key go together');
  const options: GnmiSimulatorOptions = {
    port: int('port', values.port),
    host: values.host!,
    devices: int('devices', values.devices),
    interfaces: int('interfaces', values.interfaces),
    rate: int('rate', values.rate),
    batchSize: int('batch-size', values['batch-size']),
    ...(tlsGiven
      ? {
          tls: {
            cert: readFileSync(values['tls-cert']!),
            key: readFileSync(values['tls-key']!),
            ...(values['tls-ca'] ? { ca: readFileSync(values['tls-ca']) } : {}),
          },
        }
      : {}),
    ...(values.username !== undefined
      ? { credentials: { username: values.username, password: values.password ?? '' } }
      : {}),
  };
  const sim = await startGnmiSimulator(options);
  process.stdout.write(
    `${JSON.stringify({ listening: `${options.host}:${sim.port}`, port: sim.port, devices: sim.devices.length })}\n`,
  );
  const stop = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`gnmi simulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
