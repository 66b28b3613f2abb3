import { EmuBotError } from '../../core/index.js';
import { openVideoFile } from '../video/index.js';
import { decodeImagePage, readImageHeader } from './decode-image.js';
import { referenceFrameIndices } from './frame-indices.js';
import {
  checkByteLimit,
  checkDurationLimit,
  checkFrameLimit,
  checkPixelLimit,
  type ImageLimits,
  type MediaLimits,
} from './media-limits.js';
import type { RgbImage } from './rgb-image.js';
import { type ImageFormat, sniffFormat, type VideoContainer } from './sniff-format.js';

export type DecodedMedia =
  | { readonly kind: 'image'; readonly format: ImageFormat; readonly frames: readonly [RgbImage] }
  | {
      readonly kind: 'animation';
      readonly format: ImageFormat;
      /** The reference's 8 frames, in order (repeats when the animation has fewer). */
      readonly frames: readonly RgbImage[];
      readonly frameIndices: readonly number[];
      readonly frameCount: number;
    }
  | {
      readonly kind: 'video';
      readonly format: VideoContainer;
      readonly frames: readonly RgbImage[];
      readonly frameIndices: readonly number[];
      readonly frameCount: number;
    };

/**
 * Reads an attachment by its content: a still image gives one frame; an animated GIF or WebP and
 * a video (MP4, MOV, WebM) give the reference's 8 frames, chosen over the container's frame count
 * with its index rule. Every limit is checked from headers before pixels are decoded. Failures
 * are EmuBotErrors: MEDIA_UNSUPPORTED, MEDIA_UNDECODABLE, MEDIA_TOO_LARGE, FFMPEG_UNAVAILABLE or
 * ABORTED.
 */
export async function readMedia(
  bytes: Uint8Array,
  limits: MediaLimits,
  signal?: AbortSignal,
): Promise<DecodedMedia> {
  checkByteLimit(bytes.length, limits);
  const sniffed = sniffFormat(bytes);
  switch (sniffed.kind) {
    case 'image':
      return readImage(bytes, sniffed.format, limits, signal);
    case 'video':
      return readVideo(bytes, sniffed.container, limits, signal);
    case 'heic':
      throw new EmuBotError('MEDIA_UNSUPPORTED', 'HEIC image: no HEVC decoder', {
        userMessage:
          'I cannot read HEIC photos; please send it as JPEG or PNG (most phones can export or share it that way).',
      });
    case 'unknown':
      throw new EmuBotError('MEDIA_UNSUPPORTED', `unrecognised content, starting ${hexPrefix(bytes)}`);
  }
}

/** A still image, or the first frame of an animation; never a video. */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits): Promise<RgbImage> {
  checkByteLimit(bytes.length, limits);
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind !== 'image') {
    throw new EmuBotError('MEDIA_UNSUPPORTED', `expected an image, found ${sniffed.kind} content`, {
      userMessage: 'I can only use an image (PNG, JPEG, WebP, GIF, AVIF, TIFF) here.',
    });
  }
  const header = await readImageHeader(bytes, sniffed.format, limits);
  return decodeImagePage(bytes, header, limits);
}

async function readImage(
  bytes: Uint8Array,
  format: ImageFormat,
  limits: ImageLimits,
  signal: AbortSignal | undefined,
): Promise<DecodedMedia> {
  const header = await readImageHeader(bytes, format, limits);
  if (header.frames === 1) {
    return { kind: 'image', format, frames: [await decodeImagePage(bytes, header, limits)] };
  }
  checkFrameLimit(header.frames, limits, 'animation');
  const frameIndices = referenceFrameIndices(header.frames);
  // Each wanted page decoded on its own: memory stays at one frame, however long the animation.
  const pages = new Map<number, RgbImage>();
  for (const page of new Set(frameIndices)) {
    throwIfAborted(signal);
    pages.set(page, await decodeImagePage(bytes, header, limits, page));
  }
  const frames = frameIndices.map((page) => pages.get(page)).filter((frame) => frame !== undefined);
  return { kind: 'animation', format, frames, frameIndices, frameCount: header.frames };
}

async function readVideo(
  bytes: Uint8Array,
  format: VideoContainer,
  limits: MediaLimits,
  signal: AbortSignal | undefined,
): Promise<DecodedMedia> {
  const options = {
    ffmpegPath: limits.ffmpegPath,
    ffprobePath: limits.ffprobePath,
    timeoutMs: limits.ffmpegTimeoutMs,
  };
  const video = await openVideoFile(bytes, options, signal);
  try {
    const { width, height, frameCount, durationSeconds } = video.probe;
    checkPixelLimit(width, height, limits, 'video');
    checkFrameLimit(frameCount, limits, 'video');
    if (durationSeconds !== undefined) checkDurationLimit(durationSeconds, limits);
    const frameIndices = referenceFrameIndices(frameCount);
    const frames = await video.readFrames(frameIndices, signal);
    return { kind: 'video', format, frames, frameIndices, frameCount };
  } finally {
    await video.close();
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EmuBotError('ABORTED', 'reading the animation was cancelled');
}

function hexPrefix(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 8)).toString('hex') || '(empty)';
}
