import sharp from 'sharp';
import { EmuBotError } from '../../core/index.js';

/**
 * Blurs a PNG beyond recognition, for generated images the safety checker flags when the
 * configuration says to post them blurred: shrunk to a 16th of its size (so no detail survives
 * to be sharpened back), blurred, and scaled back up.
 */
export async function blurPng(png: Uint8Array): Promise<Uint8Array> {
  try {
    const { width, height } = await sharp(png).metadata();
    if (width === undefined || height === undefined) throw new Error('no dimensions');
    const small = await sharp(png)
      .resize(Math.max(1, Math.round(width / 16)), Math.max(1, Math.round(height / 16)), { fit: 'fill' })
      .blur(2)
      .toBuffer();
    const blurred = await sharp(small)
      .resize(width, height, { fit: 'fill', kernel: 'cubic' })
      .blur(8)
      .png()
      .toBuffer();
    return new Uint8Array(blurred);
  } catch (error) {
    throw new EmuBotError('INTERNAL', `cannot blur the generated image: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
