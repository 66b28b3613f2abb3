import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { blurPng } from '../../../src/engine/pixels/index.js';

/** A sharp-edged checkerboard: blurring must leave nothing of its pattern. */
async function checkerboard(size: number): Promise<Uint8Array> {
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      pixels.fill(
        (Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0 ? 255 : 0,
        (y * size + x) * 3,
        (y * size + x + 1) * 3,
      );
  return new Uint8Array(
    await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

describe('blurPng', () => {
  it('keeps the size and leaves no detail', async () => {
    const blurred = await blurPng(await checkerboard(128));
    const { data, info } = await sharp(blurred).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([128, 128]);
    const values = [...data];
    // The original alternates 0 and 255; blurred, every pixel is a middling grey.
    expect(Math.min(...values)).toBeGreaterThan(60);
    expect(Math.max(...values)).toBeLessThan(195);
  });

  it('refuses bytes that are not an image', async () => {
    await expect(blurPng(new TextEncoder().encode('not a png'))).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
