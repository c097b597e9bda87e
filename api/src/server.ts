import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { KubeConfig } from '@kubernetes/client-node';
import { createDataSource } from '@switchforge/platform/db';
import { isSwitchforgeError } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import type { StoreConfig } from '@switchforge/platform/audio/store/store-config';
import { STEM_ROUTE, StemFiles } from './audio/stem-files.js';
import { stemRoute } from './audio/stem-route.js';
import { KubernetesAuthenticator, bearerToken, type Authenticator } from './auth/kubernetes-auth.js';
import type { Subject } from './auth/subject.js';
import { useKubernetesAuth } from './auth/use-kubernetes-auth.js';
import { ConfigBackups } from './data/config-backups.js';
import { KubeCache } from './data/kube-cache.js';
import { KubeWrites } from './data/kube-writes.js';
import { MetricsStore } from './data/metrics-store.js';
import { toGraphQLError } from './errors.js';
import { graphiqlAssets, renderLocalGraphiQL } from './graphiql.js';
import { DEFAULT_DOCUMENT_LIMITS, useDocumentLimits, type DocumentLimits } from './limits/armor.js';
import { bodyLimit } from './limits/body-limit.js';
import { useNoIntrospection } from './limits/introspection.js';
import { SubjectRateLimiter, useRateLimit, type RateLimitOptions } from './limits/rate-limit.js';
import { LiveHub, type LiveHubOptions } from './live/live-hub.js';
import { WorkerLocator, type Locator, type WorkerLocatorOptions } from './live/worker-locator.js';
import { WsLiveDelivery } from './live/ws-delivery.js';
import { PresenceStore } from './presence/presence-store.js';
import { useRequestMetrics } from './request-metrics.js';
import { buildSchema, type Services } from './schema/index.js';

export interface ApiServerOptions {
  kubeConfig: KubeConfig;
  database: { url: string; schema?: string; poolSize?: number };
  /** This replica's name among the API's replicas (its pod name), for presence; random if unset. */
  replicaId?: string;
  /** Metric samples and rollups older than this are dropped; unset keeps everything. */
  metricsRetentionDays?: number;
  /** development: GraphiQL, introspection and error details; production: none of them. */
  mode: 'development' | 'production';
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  limits?: Partial<DocumentLimits>;
  rateLimit?: RateLimitOptions;
  maxBodyBytes?: number;
  live?: LiveHubOptions;
  /** How device workers are found (tests map pods to loopback servers). */
  workers?: WorkerLocatorOptions;
  /** Replaces the Lease → Pod lookup altogether. */
  locator?: Locator;
  /** A local copy of @graphql-yoga/graphiql's dist (development only); unpkg.com otherwise. */
  graphiqlAssetsDir?: string;
  /** Replaces TokenReview/SubjectAccessReview (never in production; for benchmarks). */
  authenticator?: Authenticator;
  /** Where stems are (volume: its root, mounted here; object: the bucket) and how long links live. */
  audioStorage?: { config: StoreConfig; root?: string; urlTtlS: number };
  /** The API's origin as clients reach it (links to its own routes); the request's otherwise. */
  publicUrl?: string;
}

export interface ApiServer {
  port: number;
  url: string;
  services: Services;
  /** Closes every socket with `code` (1001 Going Away by default, so clients reconnect elsewhere). */
  close(code?: number): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';

/**
 * The API process's servers: express + graphql-yoga for HTTP (queries, mutations, GraphiQL in
 * development) and graphql-ws (`graphql-transport-ws`) on the same port and path for
 * subscriptions, both going through the same envelop plugins (auth, limits, metrics, masking).
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const production = options.mode === 'production';
  const db = createDataSource(options.database);
  await db.initialize();
  const cache = new KubeCache(options.kubeConfig);
  await cache.start();
  const locator = options.locator ?? new WorkerLocator(options.kubeConfig, options.workers);
  const services: Services = {
    cache,
    metrics: new MetricsStore(db),
    backups: new ConfigBackups(db),
    writes: new KubeWrites(options.kubeConfig),
    hub: new LiveHub(locator, options.live),
    ...(options.audioStorage
      ? {
          stems: await StemFiles.open(
            options.audioStorage.config,
            options.audioStorage.root,
            options.audioStorage.urlTtlS,
          ),
        }
      : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl.replace(/\/+$/, '') } : {}),
  };
  const presence = new PresenceStore(db, options.replicaId ? { replicaId: options.replicaId } : {});
  await presence.start();
  services.presence = presence;
  // The metric rollups are refreshed by the API replicas, one at a time (an advisory lock).
  services.metrics.startRollupRefresh(
    options.metricsRetentionDays !== undefined
      ? { partitions: { retentionDays: options.metricsRetentionDays } }
      : {},
  );
  const auth = options.authenticator ?? new KubernetesAuthenticator(options.kubeConfig);
  const limiter = new SubjectRateLimiter(options.rateLimit ?? { perSecond: 50, burst: 200 });

  const maskError = (error: unknown, message: string, isDev = !production): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (isSwitchforgeError(original)) return toGraphQLError(original)!;
    // Parse, validation and limit errors, and errors already mapped: meant for the caller.
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return error;
    if (!production) log.debug('unexpected error', { error: String(original) });
    return new GraphQLError(isDev ? `${message}: ${String(original)}` : message, {
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
  const yoga: YogaServerInstance<{ subject?: Subject }, { services: Services }> = createYoga({
    schema: buildSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: production ? false : { subscriptionsProtocol: 'WS', title: 'switchforge' },
    ...(options.graphiqlAssetsDir ? { renderGraphiQL: renderLocalGraphiQL } : {}),
    landingPage: false,
    context: { services },
    maskedErrors: { isDev: !production, maskError },
    plugins: [
      useRequestMetrics(),
      useKubernetesAuth(auth),
      useDocumentLimits({ ...DEFAULT_DOCUMENT_LIMITS, ...options.limits }, production),
      useRateLimit(limiter),
      ...(production ? [useNoIntrospection()] : []),
    ],
  });

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => void res.send('ok'));
  app.get('/readyz', (_req, res) => void res.status(cache.devices.hasSynced ? 200 : 503).send());
  if (!production && options.graphiqlAssetsDir) app.use(graphiqlAssets(options.graphiqlAssetsDir));
  if (services.stems) {
    app.get(
      STEM_ROUTE,
      stemRoute({
        auth,
        jobs: cache.audioJobs,
        stems: services.stems,
        origin: (req) => services.publicUrl ?? `${req.protocol}://${req.get('host') ?? ''}`,
      }),
    );
  }
  app.use(GRAPHQL_PATH, bodyLimit(options.maxBodyBytes ?? 256 * 1024));
  app.use(GRAPHQL_PATH, (req, res) => void yoga(req, res));

  const httpServer: Server = createServer(app);
  const wss = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: options.maxBodyBytes ?? 256 * 1024,
    // Live payloads are small and latency-bound; compressing each one costs more than it saves.
    perMessageDeflate: false,
  });
  const liveDelivery = new WsLiveDelivery({
    maskError: (e) => toGraphQLErrorLike(maskError(e, 'Unexpected error.', !production)),
  });
  const subjects = new WeakMap<WebSocket, Subject>();
  type WsExtra = { socket: WebSocket; request: IncomingMessage };
  const wsServer = useServer<Record<string, unknown> | undefined, WsExtra>(
    {
      execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
      // connection_init: a bearer token in the payload (`authorization`) or on the upgrade request.
      onConnect: async (ctx) => {
        const token =
          bearerToken(ctx.connectionParams?.authorization) ??
          bearerToken(ctx.connectionParams?.Authorization) ??
          bearerToken(ctx.extra.request.headers.authorization);
        if (!token) return false;
        try {
          subjects.set(ctx.extra.socket, await auth.authenticate(token));
          return true;
        } catch (e) {
          log.debug('graphql-ws connection refused', { error: String(e) });
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const subject = subjects.get(ctx.extra.socket);
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          subject,
          services,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (e) {
          if (e instanceof GraphQLError) return [e];
          throw e;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        let contextValue;
        try {
          contextValue = await contextFactory();
        } catch (e) {
          if (e instanceof GraphQLError) return [e];
          throw e;
        }
        const variableValues = payload.variables ?? null;
        (contextValue as { liveDelivery?: unknown }).liveDelivery = liveDelivery.target(
          ctx.extra.socket,
          ctx.extra.request.socket,
          id,
          {
            schema,
            document,
            operationName: payload.operationName ?? null,
            variableValues,
            contextValue,
            query: payload.query,
          },
        );
        return {
          schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  log.info('api listening', { port, mode: options.mode });

  return {
    port,
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    services,
    async close(code = 1001) {
      for (const socket of wss.clients) socket.close(code, 'server shutting down');
      await services.hub.close();
      await Promise.resolve(wsServer.dispose()).catch(() => undefined);
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await services.metrics.stopRollupRefresh();
      await services.presence?.stop();
      services.stems?.close();
      await Promise.allSettled([cache.stop(), db.destroy()]);
    },
  };
}

type OperationResult =
  | ExecutionResult
  | AsyncIterable<ExecutionResult>
  | Promise<ExecutionResult | AsyncIterable<ExecutionResult>>;

/** The enveloped execute/subscribe that onSubscribe hands graphql-ws through rootValue. */
interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

/** A masked error as JSON, the way graphql-ws writes errors in a result. */
function toGraphQLErrorLike(error: Error): { toJSON(): unknown } {
  return error instanceof GraphQLError ? error : new GraphQLError(error.message);
}
