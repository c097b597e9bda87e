/**
 * The project's container images for the local nodes: `ensureImages()` runs images/build.sh
 * (cached by content: an unchanged tree builds nothing) and returns its index, the names, image
 * references and OCI archives to import into each node's containerd
 * (`ctr -n k8s.io images import <archive>`).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from '@switchforge/testkit/paths';

/** The images images/build.sh builds, by the name of their archive (`<name>.oci.tar`). */
export const IMAGE_NAMES = {
  app: 'switchforge',
  audio: 'switchforge-audio',
  pause: 'switchforge-pause',
} as const;

export interface ImageEntry {
  /** The reference the image is tagged with inside its archive (the chart's default). */
  ref: string;
  /** An OCI archive (`oci-archive` transport of containers/image). */
  archive: string;
  /** Changes exactly when a file that goes into the image changes. */
  key: string;
  sizeBytes: number;
  builtAt: string;
}

/** `$SWITCHFORGE_CACHE/images/index.json`, written by images/build.sh. */
export interface ImageIndex {
  images: Record<string, ImageEntry>;
}

export const imagesDir = join(cacheDir, 'images');
export const imageIndexFile = join(imagesDir, 'index.json');

export interface EnsureImagesOptions {
  /** Also the audio image (the Python environment with torch: minutes cold, gigabytes). */
  audio?: boolean;
}

/** The app and pause images and, when asked, the audio image as the index has them; built when stale. */
export interface EnsuredImages {
  app: ImageEntry;
  /** The pod sandbox image of the local nodes' containerd. */
  pause: ImageEntry;
  audio?: ImageEntry;
  index: ImageIndex;
}

/**
 * Builds what is missing or stale and returns the index. Concurrent callers (test files in
 * parallel) queue on the script's lock; the second finds the images current.
 */
export async function ensureImages(options: EnsureImagesOptions = {}): Promise<EnsuredImages> {
  mkdirSync(imagesDir, { recursive: true });
  const targets = options.audio ? ['app', 'pause', 'audio'] : ['app', 'pause'];
  // Progress goes to a log of its own (a cold audio build takes minutes); its tail explains a failure.
  const logFile = join(imagesDir, 'build.log');
  const log = openSync(logFile, 'w');
  const code = await new Promise<number>((resolveBuild, reject) => {
    const child = spawn('bash', [join(repoRoot, 'images/build.sh'), ...targets], {
      cwd: repoRoot,
      stdio: ['ignore', log, log],
    });
    child.on('error', reject);
    child.on('close', (exit, signal) => resolveBuild(exit ?? (signal ? 128 : 1)));
  }).finally(() => closeSync(log));
  if (code !== 0) {
    const tail = readFileSync(logFile, 'utf8').slice(-4000);
    throw new Error(`images/build.sh ${targets.join(' ')} failed (exit ${code}); ${logFile} ends:\n${tail}`);
  }
  const index = readImageIndex();
  const entry = (name: string): ImageEntry => {
    const e = index.images[name];
    if (!e) throw new Error(`images/build.sh left no "${name}" in ${imageIndexFile}`);
    return e;
  };
  return {
    app: entry(IMAGE_NAMES.app),
    pause: entry(IMAGE_NAMES.pause),
    ...(options.audio ? { audio: entry(IMAGE_NAMES.audio) } : {}),
    index,
  };
}

/** The index as images/build.sh last wrote it; throws naming the file when it is not one. */
export function readImageIndex(file = imageIndexFile): ImageIndex {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const images = (parsed as { images?: unknown }).images;
  if (typeof images !== 'object' || images === null) throw new Error(`${file}: no "images" object`);
  for (const [name, e] of Object.entries(images)) {
    const entry = e as Partial<ImageEntry>;
    for (const field of ['ref', 'archive', 'key'] as const) {
      if (typeof entry[field] !== 'string')
        throw new Error(`${file}: images.${name}.${field} is not a string`);
    }
  }
  return parsed as ImageIndex;
}
