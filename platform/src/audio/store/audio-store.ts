/**
 * Where a job's files are kept: the ReadWriteMany volume or an S3-compatible bucket. Keys are
 * those of storage-layout.ts in both. Python reads and writes local files, so an activity writes
 * into `workPath(key)` and `commit`s it; it reads through `localCopy`.
 */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface AudioStore {
  readonly kind: 'volume' | 'object';
  /** A local path to write `key`'s file at (its folder created); volume: the file's final place. */
  workPath(key: string): Promise<string>;
  /** A local folder to write files under `prefix` into (created), e.g. the separator's output. */
  workDir(prefix: string): Promise<string>;
  /** Makes the file written at `workPath(key)` durable under `key`. */
  commit(key: string, contentType: string): Promise<void>;
  /**
   * A local file holding `key`'s bytes. With `area` (a namespace's), the key must resolve inside
   * it, symlinks included. Throws AudioInputError SourceNotFound when there is no such file.
   */
  localCopy(key: string, area?: string): Promise<string>;
  /** Every file under `prefix`. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Removes everything under `prefix` (and the local scratch copy); true when anything was there. */
  removePrefix(prefix: string): Promise<boolean>;
}
