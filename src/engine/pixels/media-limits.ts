import { EmuBotError } from '../../core/index.js';

/** The bounds on one attachment, from the `media` configuration. */
export interface ImageLimits {
  /** Bytes of the file as received. */
  readonly maxBytes: number;
  /** Width x height of an image, or of one frame of an animation or video. */
  readonly maxPixels: number;
  /** Frames in an animation, or in a video as its container counts them. */
  readonly maxFrames: number;
}

export interface MediaLimits extends ImageLimits {
  readonly maxVideoSeconds: number;
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  /** Wall-clock bound on each ffmpeg or ffprobe run; the process is killed when it runs out. */
  readonly ffmpegTimeoutMs: number;
}

export function checkByteLimit(byteLength: number, limits: ImageLimits): void {
  if (byteLength <= limits.maxBytes) return;
  throw new EmuBotError(
    'MEDIA_TOO_LARGE',
    `attachment is ${byteLength} bytes; media.maxBytes is ${limits.maxBytes}`,
    { userMessage: `That file is ${megabytes(byteLength)}; the limit is ${megabytes(limits.maxBytes)}.` },
  );
}

/** Checked against the header's dimensions, before a single pixel is decoded. */
export function checkPixelLimit(
  width: number,
  height: number,
  limits: ImageLimits,
  what: 'image' | 'video',
): void {
  if (width * height <= limits.maxPixels) return;
  throw new EmuBotError(
    'MEDIA_TOO_LARGE',
    `${what} is ${width}x${height} (${width * height} pixels); media.maxPixels is ${limits.maxPixels}`,
    {
      userMessage: `That ${what} is ${width}x${height} pixels; the limit is ${megapixels(limits.maxPixels)}.`,
    },
  );
}

export function checkFrameLimit(frames: number, limits: ImageLimits, what: 'animation' | 'video'): void {
  if (frames <= limits.maxFrames) return;
  throw new EmuBotError(
    'MEDIA_TOO_LARGE',
    `${what} has ${frames} frames; media.maxFrames is ${limits.maxFrames}`,
    {
      userMessage: `That ${what} has ${frames} frames; the limit is ${limits.maxFrames}.`,
    },
  );
}

export function checkDurationLimit(seconds: number, limits: MediaLimits): void {
  if (seconds <= limits.maxVideoSeconds) return;
  throw new EmuBotError(
    'MEDIA_TOO_LARGE',
    `video is ${seconds} seconds long; media.maxVideoSeconds is ${limits.maxVideoSeconds}`,
    {
      userMessage: `That video is ${duration(seconds)} long; the limit is ${duration(limits.maxVideoSeconds)}.`,
    },
  );
}

function duration(seconds: number): string {
  if (seconds < 120) return `${trimmed(seconds)} seconds`;
  return `${trimmed(seconds / 60)} minutes`;
}

function megabytes(bytes: number): string {
  return bytes >= 1_000_000 ? `${trimmed(bytes / 1_000_000)} MB` : `${bytes} bytes`;
}

function megapixels(pixels: number): string {
  return pixels >= 1_000_000 ? `${trimmed(pixels / 1_000_000)} megapixels` : `${pixels} pixels`;
}

/** At most one decimal, none when it is zero: "40", "2.1". */
function trimmed(value: number): string {
  return String(Math.round(value * 10) / 10);
}
