import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFrames, type VideoFrame } from './extract-frames.js';
import { probeVideo, type VideoProbe, type VideoToolOptions } from './probe-video.js';

export interface VideoFile extends AsyncDisposable {
  readonly probe: VideoProbe;
  /** One frame per entry of `indices`, in presentation order numbering from 0. */
  readFrames(indices: readonly number[], signal?: AbortSignal): Promise<VideoFrame[]>;
  /** Removes the temporary copy; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Writes the bytes to a private temporary file and probes them. A file rather than ffmpeg's
 * stdin because phones and most editors write MP4 with its index (the moov atom) after the media
 * data, which a pipe cannot seek back to, and because the file is read twice (probe, then
 * decode). The path is ours (mkdtemp, mode 0700), never a name from the internet.
 */
export async function openVideoFile(
  bytes: Uint8Array,
  options: VideoToolOptions,
  signal?: AbortSignal,
): Promise<VideoFile> {
  const directory = await mkdtemp(join(tmpdir(), 'emu-bot-video-'));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= rm(directory, { recursive: true, force: true });
    return closing;
  };
  try {
    const path = join(directory, 'input');
    await writeFile(path, bytes, { mode: 0o600 });
    const probe = await probeVideo(path, options, signal);
    return {
      probe,
      readFrames: (indices, frameSignal) => extractFrames(path, probe, indices, options, frameSignal),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
