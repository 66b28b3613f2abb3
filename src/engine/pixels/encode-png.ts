import sharp from 'sharp';
import type { RgbImage } from './rgb-image.js';

/** 8-bit RGB pixels as a PNG file. */
export async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(png);
}
