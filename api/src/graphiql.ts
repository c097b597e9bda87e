import express, { type Router } from 'express';
import { renderGraphiQL, type GraphiQLOptions } from 'graphql-yoga';

export const GRAPHIQL_ASSETS_PATH = '/graphiql-assets';

/**
 * GraphiQL (development mode only). Yoga's page loads its scripts from unpkg.com; given a local
 * copy of @graphql-yoga/graphiql's `dist` (SWITCHFORGE_GRAPHIQL_ASSETS, fetched by
 * e2e/infra/chromium.sh for the browser test) the API serves them itself, so GraphiQL also works
 * without Internet access.
 */
export function graphiqlAssets(dir: string): Router {
  const router = express.Router();
  router.use(GRAPHIQL_ASSETS_PATH, express.static(dir, { maxAge: '1h' }));
  return router;
}

export function renderLocalGraphiQL(options: GraphiQLOptions): string {
  return renderGraphiQL(options).replace(
    /https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/]+\/dist\//g,
    `${GRAPHIQL_ASSETS_PATH}/`,
  );
}
