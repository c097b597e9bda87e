/**
 * The device worker's own Kubernetes connection: JSON over `node:https` with a keep-alive agent.
 * The worker needs only its Lease (get/create/update) and its Device (list/watch); loading
 * @kubernetes/client-node for that costs about 70 MiB of RSS per pod (its generated models, the
 * OpenAPI serializer, ws, jsonpath...), so the worker speaks the few REST calls itself. The
 * operator and the API keep client-node.
 *
 * Configuration: in a pod, the mounted service-account token (re-read when it rotates), CA and
 * KUBERNETES_SERVICE_HOST/PORT; elsewhere (tests, the e2e pod runner) the KUBECONFIG file.
 */
import { readFileSync, statSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { request as plainRequest, Agent as PlainAgent } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { dirname, resolve } from 'node:path';
import { InputError } from '@switchforge/platform/errors';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A non-2xx answer of the apiserver, with its HTTP status as `code` (see isStatus). */
export class KubeStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeStatusError';
  }
}

export interface KubeEndpoint {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  skipTlsVerify?: boolean;
  /** Bearer token, fixed (kubeconfig `token`). */
  token?: string;
  /** Bearer token file, re-read when it changes (projected service-account tokens rotate). */
  tokenFile?: string;
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Array<{ name: string; cluster: Record<string, string | boolean | undefined> }>;
  users?: Array<{ name: string; user: Record<string, string | undefined> }>;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
}

/** Where the connection comes from: KUBECONFIG when set, else the pod's service account. */
export async function loadKubeEndpoint(env: NodeJS.ProcessEnv = process.env): Promise<KubeEndpoint> {
  if (env.KUBECONFIG) return loadKubeconfig(env.KUBECONFIG.split(':')[0]!);
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) {
    throw new InputError(
      'no Kubernetes configuration: neither KUBECONFIG nor KUBERNETES_SERVICE_HOST is set',
      'InvalidConfiguration',
    );
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(`${SERVICE_ACCOUNT_DIR}/ca.crt`),
    tokenFile: `${SERVICE_ACCOUNT_DIR}/token`,
  };
}

async function loadKubeconfig(file: string): Promise<KubeEndpoint> {
  const text = readFileSync(file, 'utf8');
  let config: KubeconfigFile;
  try {
    config = JSON.parse(text) as KubeconfigFile;
  } catch {
    // Only kubeconfigs written as YAML (tests, an admin's file) pay for a YAML parser.
    const { parse } = await import('yaml');
    config = parse(text) as KubeconfigFile;
  }
  const contextName = config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!context || !cluster || typeof cluster.server !== 'string') {
    throw new InputError(
      `kubeconfig ${file}: no cluster for context "${contextName ?? ''}"`,
      'InvalidConfiguration',
    );
  }
  const base = dirname(file);
  const material = (data: unknown, path: unknown): Buffer | undefined =>
    typeof data === 'string'
      ? Buffer.from(data, 'base64')
      : typeof path === 'string'
        ? readFileSync(resolve(base, path))
        : undefined;
  const endpoint: KubeEndpoint = { server: cluster.server.replace(/\/$/, '') };
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  if (ca) endpoint.ca = ca;
  if (cert) endpoint.cert = cert;
  if (key) endpoint.key = key;
  if (cluster['insecure-skip-tls-verify'] === true) endpoint.skipTlsVerify = true;
  if (user.token) endpoint.token = user.token;
  if (user.tokenFile) endpoint.tokenFile = resolve(base, user.tokenFile);
  return endpoint;
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

/** A small typed REST client for the few calls the worker makes. */
export class KubeConnection {
  private readonly url: URL;
  private readonly agent: Agent | PlainAgent;
  private token: { value: string; mtimeMs: number; checkedAt: number } | undefined;

  constructor(private readonly endpoint: KubeEndpoint) {
    this.url = new URL(endpoint.server);
    this.agent =
      this.url.protocol === 'https:'
        ? new Agent({
            keepAlive: true,
            maxSockets: 4,
            ...(endpoint.ca ? { ca: endpoint.ca } : {}),
            ...(endpoint.cert ? { cert: endpoint.cert } : {}),
            ...(endpoint.key ? { key: endpoint.key } : {}),
            rejectUnauthorized: !endpoint.skipTlsVerify,
          })
        : new PlainAgent({ keepAlive: true, maxSockets: 4 });
  }

  /** The bearer token; a token file is re-read when it changed (checked at most every 10 s). */
  private bearer(): string | undefined {
    const { token, tokenFile } = this.endpoint;
    if (token) return token;
    if (!tokenFile) return undefined;
    const now = Date.now();
    if (this.token && now - this.token.checkedAt < 10_000) return this.token.value;
    const mtimeMs = statSync(tokenFile).mtimeMs;
    if (!this.token || this.token.mtimeMs !== mtimeMs) {
      this.token = { value: readFileSync(tokenFile, 'utf8').trim(), mtimeMs, checkedAt: now };
    } else this.token.checkedAt = now;
    return this.token.value;
  }

  private open(method: string, path: string, headers: Record<string, string>, timeoutMs: number) {
    const token = this.bearer();
    const options: RequestOptions = {
      method,
      host: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.url.protocol === 'https:' ? 443 : 80),
      path: `${this.url.pathname.replace(/\/$/, '')}${path}`,
      agent: this.agent,
      timeout: timeoutMs,
      headers: {
        accept: 'application/json',
        'user-agent': 'switchforge-device-worker',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
    };
    return this.url.protocol === 'https:' ? request(options) : plainRequest(options);
  }

  /** One JSON request; a non-2xx status throws KubeStatusError with the apiserver's message. */
  async json<T>(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await new Promise<IncomingMessage>((ok, fail) => {
      const req = this.open(
        method,
        path,
        payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
        timeoutMs,
      );
      req.once('timeout', () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)));
      req.once('error', fail);
      req.once('response', ok);
      req.end(payload);
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw statusError(method, path, status, text);
    return JSON.parse(text) as T;
  }

  /**
   * A watch: calls `onLine` with each JSON event as it arrives; resolves when the server ends
   * the stream, rejects on a transport error or a non-2xx status, and ends when `signal` aborts.
   */
  async stream(path: string, onLine: (event: unknown) => void, signal: AbortSignal): Promise<void> {
    const req = this.open('GET', path, {}, 0);
    const onAbort = () => req.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await new Promise<IncomingMessage>((ok, fail) => {
        req.once('error', fail);
        req.once('response', ok);
        req.end();
      });
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        throw statusError('GET', path, status, Buffer.concat(chunks).toString('utf8'));
      }
      let pending = '';
      for await (const chunk of res) {
        pending += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) onLine(JSON.parse(line));
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      // A handler that threw leaves the response half read: drop its socket.
      req.destroy();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function statusError(method: string, path: string, status: number, text: string): KubeStatusError {
  let reason = '';
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason ?? '';
    message = parsed.message ?? message;
  } catch {
    /* not a Status object: keep the text */
  }
  return new KubeStatusError(status, reason, `${method} ${path}: HTTP ${status}: ${message}`);
}
