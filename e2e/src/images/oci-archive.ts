/**
 * Reads an OCI archive (what `buildah push IMG oci-archive:FILE` writes) without a container
 * runtime: its image config and the files of its layers, so tests check what an image holds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from '@switchforge/testkit/processes';

export interface ImageConfig {
  User?: string;
  WorkingDir?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[];
}

export interface OciImage {
  config: ImageConfig;
  /** Paths (without a leading `/`) present in the image after every layer is applied. */
  files: Set<string>;
  /** Uncompressed size of the layers, bytes. */
  unpackedBytes: number;
}

interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
}

/** Opens the single image of `archive`, applying each layer's whiteouts (`.wh.` files). */
export async function readOciArchive(archive: string): Promise<OciImage> {
  const dir = mkdtempSync(join(tmpdir(), 'switchforge-oci-'));
  try {
    await runChecked('tar', ['-xf', archive, '-C', dir, 'index.json', 'blobs']);
    const blob = (d: Pick<Descriptor, 'digest'>) => join(dir, 'blobs', ...d.digest.split(':'));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    if (index.manifests.length !== 1) throw new Error(`${archive}: ${index.manifests.length} manifests`);
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!), 'utf8')) as {
      config: Descriptor;
      layers: Descriptor[];
    };
    const config = (JSON.parse(readFileSync(blob(manifest.config), 'utf8')) as { config: ImageConfig })
      .config;
    const files = new Set<string>();
    let unpackedBytes = 0;
    for (const layer of manifest.layers) {
      // `tar -tv` prints sizes too; GNU tar recognises gzip and zstd from the data itself.
      const listing = await runChecked('tar', ['-tvf', blob(layer)]);
      for (const line of listing.split('\n')) {
        const m = /^\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+?)(?: -> .*| link to .*)?$/.exec(line);
        if (!m) continue;
        unpackedBytes += Number(m[1]);
        const path = m[2]!.replace(/^\.?\//, '').replace(/\/$/, '');
        const base = path.slice(path.lastIndexOf('/') + 1);
        if (base === '.wh..wh..opq') {
          const parent = path.slice(0, path.lastIndexOf('/'));
          for (const f of files) if (f.startsWith(`${parent}/`)) files.delete(f);
        } else if (base.startsWith('.wh.')) {
          const gone = path.slice(0, path.length - base.length) + base.slice(4);
          for (const f of files) if (f === gone || f.startsWith(`${gone}/`)) files.delete(f);
        } else files.add(path);
      }
    }
    return { config, files, unpackedBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
