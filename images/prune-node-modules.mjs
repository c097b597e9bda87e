// Removes from a production node_modules what cannot run in the image: the Temporal core
// bridge's native modules for other platforms and the Rust sources it builds from (about 125 MB
// of its 148 MB). Run in the image's deps stage: `node images/prune-node-modules.mjs node_modules`.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import process from 'node:process';

const root = resolve(process.argv[2] ?? 'node_modules');
const bridge = join(root, '@temporalio/core-bridge');
if (existsSync(bridge)) {
  // The bridge's own naming of this machine's target, so what it loads is what stays.
  const { getPrebuiltTargetName } = createRequire(import.meta.url)(join(bridge, 'common.js'));
  const keep = getPrebuiltTargetName();
  const releases = join(bridge, 'releases');
  if (!existsSync(join(releases, keep))) throw new Error(`no Temporal core bridge for ${keep}`);
  for (const target of readdirSync(releases))
    if (target !== keep) rmSync(join(releases, target), { recursive: true });
  for (const source of ['sdk-core', 'src', 'bridge-macros', 'Cargo.toml', 'Cargo.lock'])
    rmSync(join(bridge, source), { recursive: true, force: true });
  process.stdout.write(`pruned @temporalio/core-bridge to ${keep}\n`);
}
