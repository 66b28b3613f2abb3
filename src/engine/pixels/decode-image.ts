import sharp, { type Metadata, type Sharp } from 'sharp';
import { EmuBotError, isEmuBotError } from '../../core/index.js';
import { checkPixelLimit, type ImageLimits } from './media-limits.js';
import type { RgbImage } from './rgb-image.js';
import type { ImageFormat } from './sniff-format.js';

/** What the header says, read without decoding pixels. */
export interface ImageHeader {
  readonly format: ImageFormat;
  /** Of one page: animations stack their frames, and the limits are per frame. */
  readonly width: number;
  readonly height: number;
  /** 1 for a still image; only GIF and WebP are read as animations. */
  readonly frames: number;
}

/**
 * Reads the header and checks the pixel limit: a 20000x20000 PNG of a few kilobytes is refused
 * here, before anything is allocated for its pixels.
 */
export async function readImageHeader(
  bytes: Uint8Array,
  format: ImageFormat,
  limits: ImageLimits,
): Promise<ImageHeader> {
  let metadata: Metadata;
  try {
    // No pixel limit here: a header read allocates nothing, and checkPixelLimit words the refusal.
    metadata = await sharp(bytes, { ...decoderOptions(limits), limitInputPixels: false }).metadata();
  } catch (error) {
    throw undecodable(format, error);
  }
  const height = metadata.pageHeight ?? metadata.height;
  checkPixelLimit(metadata.width, height, limits, 'image');
  const animated = format === 'gif' || format === 'webp';
  return { format, width: metadata.width, height, frames: animated ? (metadata.pages ?? 1) : 1 };
}

/**
 * Decodes one page (a frame of an animation; 0 for a still) to 8-bit sRGB: EXIF orientation
 * applied, CMYK, greyscale, palette and 16-bit converted (through ICC profiles where the file has
 * them, libvips's defaults where not), transparency flattened onto white.
 */
export async function decodeImagePage(
  bytes: Uint8Array,
  header: ImageHeader,
  limits: ImageLimits,
  page = 0,
): Promise<RgbImage> {
  let pipeline: Sharp = sharp(bytes, { ...decoderOptions(limits), page, pages: 1 })
    .autoOrient()
    .toColourspace('srgb');
  try {
    const { hasAlpha } = await pipeline.metadata();
    pipeline = hasAlpha ? pipeline.ensureAlpha() : pipeline.removeAlpha();
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels === 3) return { width: info.width, height: info.height, data: pixels };
    if (info.channels === 4) return flattenOnWhite(info.width, info.height, pixels);
    throw new EmuBotError('INTERNAL', `sharp gave ${info.channels} channels for a ${header.format} image`);
  } catch (error) {
    if (isEmuBotError(error)) throw error;
    throw undecodable(header.format, error);
  }
}

function decoderOptions(limits: ImageLimits) {
  return {
    // Truncated and corrupt files are errors, not half-grey pictures the model would describe.
    failOn: 'error',
    // The second fence behind checkPixelLimit: libvips refuses to allocate beyond it.
    limitInputPixels: limits.maxPixels,
    sequentialRead: true,
  } as const;
}

/**
 * Composites RGBA onto opaque white, rounding to the nearest byte. The reference's
 * `convert("RGB")` instead drops alpha and keeps whatever colour the transparent pixels hold
 * (often black); chat stickers, logos and screenshots with transparency are drawn for a light
 * background, so white shows the model what the person sees. Done here rather than with sharp's
 * flatten, which differs from Pillow's compositing by up to 3 levels.
 */
function flattenOnWhite(width: number, height: number, rgba: Uint8Array): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let pixel = 0; pixel < width * height; pixel++) {
    const alpha = rgba[pixel * 4 + 3] ?? 255;
    const background = 255 * (255 - alpha);
    for (let channel = 0; channel < 3; channel++) {
      rgb[pixel * 3 + channel] = Math.round(((rgba[pixel * 4 + channel] ?? 0) * alpha + background) / 255);
    }
  }
  return { width, height, data: rgb };
}

function undecodable(format: ImageFormat, cause: unknown): EmuBotError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(reason)) {
    return new EmuBotError('MEDIA_TOO_LARGE', `${format} image exceeds the pixel limit: ${reason}`, {
      cause,
    });
  }
  return new EmuBotError('MEDIA_UNDECODABLE', `${format} image could not be decoded: ${reason.trim()}`, {
    cause,
    userMessage: `I could not read that ${format.toUpperCase()} image; it may be damaged or incomplete.`,
  });
}
