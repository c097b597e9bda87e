import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { ApiServer } from '@switchforge/api/server';
import { repoRoot } from '@switchforge/testkit/paths';
import { startApiFixture, type ApiFixture } from './fixture.js';

let fx: ApiFixture | undefined;
let api: ApiServer;
let browser: Browser | undefined;
let skipReason: string | undefined;

before(async () => {
  const setup = spawnSync('bash', [join(repoRoot, 'e2e', 'infra', 'chromium.sh')], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  const assets = /graphiql assets: (.+)/.exec(setup.stdout)?.[1];
  if (setup.status !== 0 || !assets) {
    skipReason = `Chromium or GraphiQL's scripts could not be installed: ${(setup.stderr || setup.stdout).trim().slice(-300)}`;
    return;
  }
  fx = await startApiFixture('graphiql');
  api = await fx.startApi({ mode: 'development', graphiqlAssetsDir: assets });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
});

after(async () => {
  await browser?.close();
  await fx?.stop();
});

test('GraphiQL in development mode runs a subscription and shows values as the worker commits them', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const context = await browser!.newContext({
    extraHTTPHeaders: { authorization: `Bearer ${fx!.tokens.a}` },
  });
  const page = await context.newPage();
  const query = `subscription { deviceUpdates(namespace: "${fx!.namespaces.a}", name: "leaf1") { sequence values { path value } } }`;
  await page.goto(`${api.url}?query=${encodeURIComponent(query)}`, { waitUntil: 'domcontentloaded' });
  await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
  await page.locator('.graphiql-execute-button').click();
  // Publish until the response pane shows a value (the upstream opens once the subscription starts).
  const response = page.locator('.graphiql-response');
  let seen = '';
  for (let i = 0; i < 60 && !seen.includes('424242'); i++) {
    fx!.publish('leaf1', [424242]);
    await page.waitForTimeout(250);
    seen = (await response.textContent()) ?? '';
  }
  await context.close();
  assert.match(seen, /"sequence":\s*"\d+"/, seen.slice(0, 500));
  assert.match(seen, /424242/);
});

test('GraphiQL is not served in production mode', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const prod = await fx!.startApi({ mode: 'production' });
  const res = await fetch(prod.url, { headers: { accept: 'text/html' } });
  const body = await res.text();
  await prod.close();
  assert.doesNotMatch(body, /graphiql/i);
});
