/** `npm run up` / `npm run down`: the whole local system, in the background. */
import { join } from 'node:path';
import { repoRoot } from '@switchforge/testkit/paths';
import { startSystem, stopSystem } from './system.js';

const stateDir = process.env.SWITCHFORGE_STATE_DIR ?? join(repoRoot, '.run', 'infra');
const command = process.argv[2] ?? 'up';
try {
  if (command === 'up') {
    const { lines } = await startSystem(stateDir);
    console.log(
      ['switchforge is up:', ...lines.map((l) => `  ${l}`), 'stop it with: npm run down'].join('\n'),
    );
  } else if (command === 'down') {
    await stopSystem(stateDir);
    console.log('switchforge stopped');
  } else {
    throw new Error(`unknown command ${command}: expected up | down`);
  }
  process.exit(0);
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
