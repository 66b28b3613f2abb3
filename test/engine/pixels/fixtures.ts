import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { packageRoot } from '../../../src/core/index.js';
import type { MediaLimits, PixelSpec, RgbImage } from '../../../src/engine/pixels/index.js';

/** Written by tools/fixtures/make_pixel_goldens.py; see goldens.json for what each file is. */
export const fixtureDirectory = join(packageRoot, 'test', 'fixtures', 'pixels');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixtureDirectory, name)));
}

export interface GoldenIndex {
  readonly size: number;
  readonly stills: readonly { readonly file: string; readonly golden: string; readonly note?: string }[];
  readonly frameIndices: Readonly<
    Record<string, { readonly frames: number; readonly indices: readonly number[] }>
  >;
  readonly referenceIndexCases: Readonly<Record<string, readonly number[]>>;
}

export const goldens = JSON.parse(
  readFileSync(join(fixtureDirectory, 'goldens.json'), 'utf8'),
) as GoldenIndex;

/** The reference's 224x224 RGB bytes after Pillow's resize. */
export function goldenBytes(name: string): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(join(fixtureDirectory, name))));
}

export const clipSpec: PixelSpec = {
  size: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

export const generousLimits: MediaLimits = {
  maxBytes: 25_000_000,
  maxPixels: 40_000_000,
  maxFrames: 5000,
  maxVideoSeconds: 300,
  ffmpegPath: 'ffmpeg',
  ffprobePath: 'ffprobe',
  ffmpegTimeoutMs: 20_000,
};

/**
 * Reads the number a counter fixture frame shows: 8 vertical bars, bit 7 on the left, white for 1.
 * Samples the middle of each bar, so codec noise at the edges does not matter.
 */
export function readCounter(frame: RgbImage): number {
  let value = 0;
  for (let bit = 0; bit < 8; bit++) {
    const x = Math.floor(((bit + 0.5) * frame.width) / 8);
    const y = Math.floor(frame.height / 2);
    const green = frame.data[(y * frame.width + x) * 3 + 1] ?? 0;
    value = value * 2 + (green > 128 ? 1 : 0);
  }
  return value;
}

/** Per-pixel RGB at (x, y). */
export function pixelAt(image: RgbImage, x: number, y: number): [number, number, number] {
  const at = (y * image.width + x) * 3;
  return [image.data[at] ?? -1, image.data[at + 1] ?? -1, image.data[at + 2] ?? -1];
}
