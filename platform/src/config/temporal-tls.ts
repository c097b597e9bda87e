import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

/**
 * TLS for Temporal clients (the operator's client, the audio workers' native connection), the
 * shape both `@temporalio/client` and `@temporalio/worker` take. Read from files that a mounted
 * Secret provides, so no key material passes through the environment.
 */
export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/** The variables that point at the files; the chart sets them when `temporal.tls.enabled`. */
export const TEMPORAL_TLS_ENV = {
  caFile: 'TEMPORAL_TLS_CA_FILE',
  certFile: 'TEMPORAL_TLS_CERT_FILE',
  keyFile: 'TEMPORAL_TLS_KEY_FILE',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
} as const;

/**
 * TLS settings from TEMPORAL_TLS_* or undefined (plaintext) when none is set. A CA alone
 * verifies the server; a certificate and key add a client certificate (mTLS). A half-given
 * pair or an unreadable file stops the process at start with the variable's name.
 */
export async function readTemporalTls(
  env: NodeJS.ProcessEnv = process.env,
): Promise<TemporalTls | undefined> {
  const value = (name: string) => (env[name] ? env[name] : undefined);
  const caFile = value(TEMPORAL_TLS_ENV.caFile);
  const certFile = value(TEMPORAL_TLS_ENV.certFile);
  const keyFile = value(TEMPORAL_TLS_ENV.keyFile);
  const serverName = value(TEMPORAL_TLS_ENV.serverName);
  if (!caFile && !certFile && !keyFile && !serverName) return undefined;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new InputError(
      `invalid configuration: ${TEMPORAL_TLS_ENV.certFile} and ${TEMPORAL_TLS_ENV.keyFile} go together (a client certificate needs its key)`,
      'InvalidConfiguration',
    );
  }
  const read = async (variable: string, path: string) => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new InputError(
        `invalid configuration: ${variable}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`,
        'InvalidConfiguration',
        { cause: e },
      );
    }
  };
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(caFile ? { serverRootCACertificate: await read(TEMPORAL_TLS_ENV.caFile, caFile) } : {}),
    ...(certFile && keyFile
      ? {
          clientCertPair: {
            crt: await read(TEMPORAL_TLS_ENV.certFile, certFile),
            key: await read(TEMPORAL_TLS_ENV.keyFile, keyFile),
          },
        }
      : {}),
  };
}
