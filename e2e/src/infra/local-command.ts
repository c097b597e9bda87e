import { join } from 'node:path';
import { APP_ROOT, COMPILED_CONDITION } from '@switchforge/platform/image-layout';

/**
 * How a container command of the images runs from this repository instead of an image:
 * `source` runs the entry point's TypeScript under tsx (what tests run: never stale), `compiled`
 * runs the repository's own dist/ (after `npm run build`: what the image runs).
 */
export type LocalCommandMode = 'source' | 'compiled';

const entryPoint = new RegExp(`^${APP_ROOT}/([a-z0-9-]+)/dist/(.+)\\.js$`);

/**
 * The local form of an image command (`node --conditions=production /app/<package>/dist/<file>.js
 * args…`) with the repository at `root`. A command without such an entry point is returned as is.
 */
export function localCommand(
  command: readonly string[],
  root: string,
  mode: LocalCommandMode = 'source',
): string[] {
  const at = command.findIndex((arg) => entryPoint.test(arg));
  if (at < 0) return [...command];
  const [, pkg, file] = entryPoint.exec(command[at]!)!;
  const rest = command.slice(at + 1);
  if (mode === 'compiled') return [...command.slice(0, at), join(root, pkg!, 'dist', `${file!}.js`), ...rest];
  // The sources are the packages' default export condition; tsx compiles them as they load.
  const flags = command.slice(0, at).filter((arg) => arg !== `--conditions=${COMPILED_CONDITION}`);
  return [...flags, '--import', 'tsx', join(root, pkg!, 'src', `${file!}.ts`), ...rest];
}
