/**
 * Writes the audio workflow bundle (workflows and their trace interceptors, bundled by webpack)
 * beside the compiled worker, where `runAudioWorkers` finds it: `npm run build` runs it after
 * `tsc`, so the images carry the bundle and an audio worker does no bundling when it starts.
 *   node --conditions=production worker/dist/audio/bundle-workflows.js
 */
import { writeFile, rename } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE, bundleAudioWorkflows } from './worker.js';

const target = fileURLToPath(new URL(`./${WORKFLOW_BUNDLE_FILE}`, import.meta.url));
if (!import.meta.url.endsWith('.js'))
  throw new Error('bundle the compiled workflows: run worker/dist/audio/bundle-workflows.js');
const { code } = await bundleAudioWorkflows(new DefaultLogger('WARN'));
// Written whole or not at all: a worker must never load half a bundle.
await writeFile(`${target}.tmp`, code);
await rename(`${target}.tmp`, target);
console.log(`workflow bundle: ${target} (${(code.length / 1024).toFixed(0)} KiB)`);
