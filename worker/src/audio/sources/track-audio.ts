import { AudioInputError } from '../errors.js';
import type { SpotifyTrack } from './spotify.js';

/** Where a track's audio can be read: an http(s) URL or a path in the project's storage. */
export type TrackAudio =
  | { readonly url: string; readonly sha256?: string }
  | { readonly storagePath: string; readonly sha256?: string };

/**
 * Turns track metadata into audio. Spotify gives no full audio, so this is pluggable: a licensed
 * catalogue, a mirror in storage, or (for demos) the 30 s preview.
 */
export interface TrackAudioResolver {
  resolve(track: SpotifyTrack, signal?: AbortSignal): Promise<TrackAudio>;
}

/** Resolves a track to its preview URL; fails non-retryably when Spotify offers none. */
export const previewUrlResolver: TrackAudioResolver = {
  resolve(track) {
    if (!track.previewUrl) {
      return Promise.reject(
        new AudioInputError('SourceNotFound', `no audio is available for Spotify track ${track.id}`),
      );
    }
    return Promise.resolve({ url: track.previewUrl });
  },
};

/** Resolves every track to `<prefix>/<track id>.<ext>` in storage (a pre-provisioned mirror). */
export function storageMirrorResolver(prefix: string, ext = 'wav'): TrackAudioResolver {
  return {
    resolve: (track) => Promise.resolve({ storagePath: `${prefix.replace(/\/$/, '')}/${track.id}.${ext}` }),
  };
}
