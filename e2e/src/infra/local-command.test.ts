import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMAGE_COMMANDS } from '@switchforge/platform/image-layout';
import { localCommand } from './local-command.js';

const root = '/repo';

test('an image entry point runs from the sources under tsx, its node flags kept', () => {
  const cases: [readonly string[], string[]][] = [
    [IMAGE_COMMANDS.operator, ['node', '--import', 'tsx', '/repo/operator/src/main.ts']],
    [IMAGE_COMMANDS.api, ['node', '--import', 'tsx', '/repo/api/src/main.ts']],
    [IMAGE_COMMANDS.deviceWorker, ['node', '--import', 'tsx', '/repo/worker/src/main.ts', 'device']],
    // V8 flags a command carries itself stay in front of the entry point.
    [
      ['node', '--conditions=production', '--max-semi-space-size=4', '/app/worker/dist/main.js', 'device'],
      ['node', '--max-semi-space-size=4', '--import', 'tsx', '/repo/worker/src/main.ts', 'device'],
    ],
    [IMAGE_COMMANDS.audioWorker, ['node', '--import', 'tsx', '/repo/worker/src/audio/run.ts']],
  ];
  for (const [command, want] of cases) assert.deepEqual(localCommand(command, root), want);
});

test('compiled mode runs the repository dist/ with the image flags, as the image does', () => {
  assert.deepEqual(localCommand(IMAGE_COMMANDS.deviceWorker, root, 'compiled'), [
    'node',
    '--conditions=production',
    '/repo/worker/dist/main.js',
    'device',
  ]);
});

test('a command without an image entry point is left alone', () => {
  const cases: string[][] = [
    ['node', '--import', 'tsx', 'worker/src/main.ts', 'device'],
    ['/bin/sleep', '1000'],
    ['node', '/elsewhere/worker/dist/main.js'],
  ];
  for (const command of cases) assert.deepEqual(localCommand(command, root), command);
});
