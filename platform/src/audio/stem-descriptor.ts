/**
 * What a stem is, as the separator stage reports it and every reader (job status, database, API)
 * shows it: where it is stored and what a client downloading it gets.
 */
export interface StemDescriptor {
  /** `vocals`, `drums`, ... */
  readonly name: string;
  /** Storage key (volume: path under the root; object storage: key in the bucket). */
  readonly path: string;
  /** Container format, from the file's own header: `wav`. */
  readonly format: string;
  /** The media type a download is served with. */
  readonly contentType: string;
  readonly bytes: number;
  /** Seconds of audio, from the header (frames / sample rate). */
  readonly durationS: number;
  /** Hex sha256 of the bytes as written, so a client can check its download. */
  readonly sha256: string;
}
