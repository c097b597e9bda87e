/**
 * The switchforge image as images/build.sh exports it (built here when stale, cached by content):
 * what the chart's commands run is in it, compiled, with production dependencies only, for a
 * non-root user. Running it on a real node is the nodes' suites' part.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { APP_ROOT, DEFAULT_IMAGES, IMAGE_COMMANDS, IMAGE_UID } from '@switchforge/platform/image-layout';
import { ensureImages, type EnsuredImages } from '@switchforge/testkit/images';
import { readOciArchive, type OciImage } from './oci-archive.js';

const inImage = (path: string) => path.replace(/^\//, '');

describe('the switchforge image', () => {
  let images: EnsuredImages;
  let image: OciImage;
  before(async () => {
    images = await ensureImages();
    image = await readOciArchive(images.app.archive);
  });

  test("is tagged with the chart's default reference and indexed with its archive and key", () => {
    assert.equal(images.app.ref, DEFAULT_IMAGES.app);
    assert.match(images.app.key, /^[0-9a-f]{16}$/);
    assert.ok(images.app.archive.endsWith('/switchforge.oci.tar'));
  });

  test('runs as the numeric non-root user the chart runs pods as, in /app', () => {
    assert.equal(image.config.User, `${IMAGE_UID}:${IMAGE_UID}`);
    assert.equal(image.config.WorkingDir, APP_ROOT);
    assert.ok(!image.config.Entrypoint, 'no entrypoint (no shell wrapper): the command is the process');
  });

  test('holds every compiled entry point the chart and the operator start, and node', () => {
    for (const [component, command] of Object.entries(IMAGE_COMMANDS)) {
      assert.equal(command[0], 'node');
      const entry = command.find((a) => a.startsWith(`${APP_ROOT}/`))!;
      assert.ok(image.files.has(inImage(entry)), `${component}: ${entry}`);
    }
    assert.ok(image.files.has('usr/local/bin/node'));
  });

  test('carries the prebuilt Temporal workflow bundle and the gNMI protos the compiled code loads', () => {
    assert.ok(image.files.has('app/worker/dist/audio/workflow-bundle.js'));
    assert.ok(image.files.has('app/proto/gnmi/gnmi.proto'));
  });

  test('has production dependencies only: no tsx, esbuild or TypeScript, no sources, no testkit or e2e', () => {
    for (const dev of ['tsx', 'esbuild', '@esbuild', 'typescript', 'eslint', 'prettier', 'playwright-core'])
      assert.ok(!image.files.has(`app/node_modules/${dev}`), `node_modules/${dev} is not in the image`);
    for (const pkg of ['platform', 'worker', 'operator', 'api']) {
      assert.ok(image.files.has(`app/${pkg}/dist`), `${pkg}/dist`);
      assert.ok(!image.files.has(`app/${pkg}/src`), `${pkg}/src is not in the image`);
    }
    assert.ok(!image.files.has('app/e2e'));
    assert.ok(!image.files.has('app/node_modules/@switchforge/e2e'));
    assert.ok(!image.files.has('app/testkit'));
    assert.ok(!image.files.has('app/node_modules/@switchforge/testkit'));
  });

  test('keeps only the Temporal core bridge built for this platform', () => {
    const releases = [...image.files].filter((f) =>
      /^app\/node_modules\/@temporalio\/core-bridge\/releases\/[^/]+$/.test(f),
    );
    assert.deepEqual(releases, [
      'app/node_modules/@temporalio/core-bridge/releases/x86_64-unknown-linux-gnu',
    ]);
  });
});
