import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { UnavailableError } from '../../errors.js';
import { AudioInputError } from '../input-error.js';
import { keyWithin } from '../storage-layout.js';
import type { AudioStore, StoredObject } from './audio-store.js';

export interface ObjectStoreConfig {
  /** http(s)://host:port of the S3 API. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Path-style URLs (`endpoint/bucket/key`): what self-hosted stores serve. */
  readonly forcePathStyle: boolean;
}

/**
 * A bucket on an S3-compatible store. Files are staged in `scratch` (an emptyDir in the worker)
 * for Python to read and write; the bucket holds the durable copy.
 */
export class ObjectStore implements AudioStore {
  readonly kind = 'object';
  private readonly s3: S3Client;

  constructor(
    private readonly config: ObjectStoreConfig,
    private readonly scratch: string,
  ) {
    this.s3 = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // Only what the server needs: some S3-compatible stores refuse the newer checksum headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  get bucket(): string {
    return this.config.bucket;
  }

  async workPath(key: string): Promise<string> {
    const path = join(this.scratch, key);
    await mkdir(dirname(path), { recursive: true });
    return path;
  }

  async workDir(prefix: string): Promise<string> {
    const path = join(this.scratch, prefix);
    await mkdir(path, { recursive: true });
    return path;
  }

  async commit(key: string, contentType: string): Promise<void> {
    const path = join(this.scratch, key);
    const { size } = await stat(path);
    await this.call(`put ${key}`, () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.config.bucket,
          Key: key,
          Body: createReadStream(path),
          ContentLength: size,
          ContentType: contentType,
        }),
      ),
    );
  }

  async localCopy(key: string, area?: string): Promise<string> {
    // Keys are plain strings here (no symlinks): the layout's checks made them; this is the fence.
    if (area !== undefined && !keyWithin(area, key))
      throw new AudioInputError('PathOutsideStorage', `${key} is outside ${area}`);
    const path = await this.workPath(key);
    const res = await this.call(`get ${key}`, () =>
      this.s3.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key })),
    );
    const partial = `${path}.partial`;
    await pipeline(res.Body as Readable, createWriteStream(partial));
    await rm(path, { force: true });
    await rename(partial, path);
    return path;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.call(`list ${prefix}/`, () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: `${prefix.replace(/\/+$/, '')}/`,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? [])
        if (o.Key) yield { key: o.Key, bytes: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async removePrefix(prefix: string): Promise<boolean> {
    let batch: string[] = [];
    let removed = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const Objects = batch.map((Key) => ({ Key }));
      batch = [];
      await this.call(`delete under ${prefix}`, () =>
        this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.config.bucket, Delete: { Objects, Quiet: true } }),
        ),
      );
    };
    for await (const o of this.list(prefix)) {
      batch.push(o.key);
      removed++;
      if (batch.length === 1000) await flush();
    }
    await flush();
    await rm(join(this.scratch, prefix), { recursive: true, force: true });
    return removed > 0;
  }

  /** A GET URL for `key` valid `expiresInS` seconds, signed with this store's credentials. */
  presignGet(key: string, expiresInS: number, fileName: string): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: this.config.bucket,
        Key: key,
        ResponseContentDisposition: `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`,
      }),
      { expiresIn: expiresInS },
    );
  }

  close(): void {
    this.s3.destroy();
  }

  /** The store's errors as ours: a missing key is the job's input, the rest worth a retry. */
  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404))
        throw new AudioInputError(
          'SourceNotFound',
          `${what}: no such object in bucket ${this.config.bucket}`,
        );
      throw new UnavailableError(
        `object storage ${what}: ${e instanceof Error ? e.message : String(e)}`,
        'StorageUnavailable',
        { cause: e },
      );
    }
  }
}
