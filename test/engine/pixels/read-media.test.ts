import { describe, expect, it } from 'vitest';
import { type EmuBotError, isEmuBotError } from '../../../src/core/index.js';
import { decodeImage, readMedia, toPixelValues } from '../../../src/engine/pixels/index.js';
import { clipSpec, fixture, generousLimits, goldens, pixelAt, readCounter } from './fixtures.js';

async function failure(promise: Promise<unknown>): Promise<EmuBotError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isEmuBotError(error)) throw new Error(`expected an EmuBotError, got ${String(error)}`);
  return error;
}

describe('readMedia on still images', () => {
  it('judges by content: a PNG named .jpg is read as PNG', async () => {
    const media = await readMedia(fixture('png-named.jpg'), generousLimits);
    expect(media).toMatchObject({ kind: 'image', format: 'png' });
    expect(media.frames[0]).toMatchObject({ width: 96, height: 64 });
  });

  it.each([
    ['a text file named .png', fixture('text-named.png')],
    ['SVG, which libvips would read', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['an empty file', new Uint8Array()],
  ])('refuses %s as MEDIA_UNSUPPORTED', async (_, bytes) => {
    const error = await failure(readMedia(bytes, generousLimits));
    expect(error.code).toBe('MEDIA_UNSUPPORTED');
    expect(error.userMessage).toContain('PNG, JPEG, WebP, GIF, AVIF, TIFF');
  });

  it('names HEIC when refusing it', async () => {
    const ascii = (text: string) => [...text].map((character) => character.charCodeAt(0));
    const heic = new Uint8Array([0, 0, 0, 24, ...ascii('ftypheic'), 0, 0, 0, 0, ...ascii('mif1heic')]);
    const error = await failure(readMedia(heic, generousLimits));
    expect(error.code).toBe('MEDIA_UNSUPPORTED');
    expect(error.userMessage).toMatch(/HEIC/);
  });

  it.each(['truncated.png', 'truncated.jpg'])('reports %s as MEDIA_UNDECODABLE', async (name) => {
    const error = await failure(readMedia(fixture(name), generousLimits));
    expect(error.code).toBe('MEDIA_UNDECODABLE');
    expect(error.userMessage).toMatch(/damaged or incomplete/);
  });

  it('applies EXIF orientation 6: the stored 64x96 picture comes out upright, 96x64', async () => {
    const image = await decodeImage(fixture('exif-orientation-6.jpg'), generousLimits);
    expect([image.width, image.height]).toEqual([96, 64]);
    const [red, green, blue] = pixelAt(image, 30, 32); // inside the card's red rectangle
    expect(red).toBeGreaterThan(200);
    expect(green).toBeLessThan(80);
    expect(blue).toBeLessThan(80);
  });

  it('flattens transparency onto white', async () => {
    const image = await decodeImage(fixture('rgba.png'), generousLimits);
    // Columns 0-19 are fully transparent black, 20-39 half transparent, the rest opaque.
    expect(pixelAt(image, 5, 30)).toEqual([255, 255, 255]);
    for (const channel of pixelAt(image, 30, 5)) expect(channel).toBeGreaterThanOrEqual(127);
    const opaque = pixelAt(image, 60, 3);
    expect(opaque).not.toEqual([255, 255, 255]);
  });

  it('converts CMYK through colour management to plausible RGB', async () => {
    const image = await decodeImage(fixture('cmyk.jpg'), generousLimits);
    expect([image.width, image.height]).toEqual([96, 64]);
    const [red, green, blue] = pixelAt(image, 30, 32);
    expect(red).toBeGreaterThan(150);
    expect(green).toBeLessThan(100);
    expect(blue).toBeLessThan(100);
    const [ellipseRed, ellipseGreen] = pixelAt(image, 72, 32);
    expect(ellipseGreen).toBeGreaterThan(ellipseRed + 60);
  });

  it('gives greyscale as three equal channels and palette images in their colours', async () => {
    const grey = await decodeImage(fixture('grey.png'), generousLimits);
    for (let pixel = 0; pixel < grey.width * grey.height; pixel += 97) {
      const [red, green, blue] = pixelAt(grey, pixel % grey.width, Math.floor(pixel / grey.width));
      expect(green).toBe(red);
      expect(blue).toBe(red);
    }
    const palette = await decodeImage(fixture('palette.png'), generousLimits);
    const colours = new Set<string>();
    for (let at = 0; at < palette.data.length; at += 3) colours.add(palette.data.subarray(at, at + 3).join());
    expect(colours.size).toBeGreaterThan(4);
    expect(colours.size).toBeLessThanOrEqual(16);
  });

  it('scales 16-bit samples to 8 bits', async () => {
    const [rgb16, rgb8, grey16, grey8] = await Promise.all(
      ['rgb16.png', 'rgb.png', 'grey16.png', 'grey.png'].map((name) =>
        decodeImage(fixture(name), generousLimits),
      ),
    );
    expect(rgb16?.data).toEqual(rgb8?.data);
    expect(grey16?.data).toEqual(grey8?.data);
  });

  it('reads AVIF (lossy, so close to rather than equal to the PNG it was made from)', async () => {
    const [avif, png] = await Promise.all(
      ['rgb.avif', 'rgb.png'].map(async (name) =>
        toPixelValues(await decodeImage(fixture(name), generousLimits), clipSpec),
      ),
    );
    let sum = 0;
    for (let index = 0; index < (png?.length ?? 0); index++)
      sum += Math.abs((avif?.[index] ?? 9) - (png?.[index] ?? 0));
    expect(sum / (png?.length ?? 1)).toBeLessThan(0.05);
  });
});

describe('readMedia limits', () => {
  it('refuses too many bytes before looking inside', async () => {
    const error = await failure(readMedia(fixture('rgb.png'), { ...generousLimits, maxBytes: 1000 }));
    expect(error.code).toBe('MEDIA_TOO_LARGE');
    expect(error.message).toBe('attachment is 8110 bytes; media.maxBytes is 1000');
    expect(error.userMessage).toBe('That file is 8110 bytes; the limit is 1000 bytes.');
  });

  it('refuses too many pixels, naming the size and the limit', async () => {
    const error = await failure(readMedia(fixture('rgb.png'), { ...generousLimits, maxPixels: 6000 }));
    expect(error.code).toBe('MEDIA_TOO_LARGE');
    expect(error.message).toBe('image is 96x64 (6144 pixels); media.maxPixels is 6000');
    expect(error.userMessage).toBe('That image is 96x64 pixels; the limit is 6000 pixels.');
  });

  it('refuses a decompression bomb from its header, without allocating its pixels', async () => {
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const error = await failure(readMedia(fixture('bomb.png'), generousLimits));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024); // 400 MB if decoded
    expect(error.code).toBe('MEDIA_TOO_LARGE');
    expect(error.userMessage).toBe('That image is 20000x20000 pixels; the limit is 40 megapixels.');
  });

  it('refuses an animation with too many frames', async () => {
    const error = await failure(readMedia(fixture('counter.gif'), { ...generousLimits, maxFrames: 10 }));
    expect(error.code).toBe('MEDIA_TOO_LARGE');
    expect(error.userMessage).toBe('That animation has 20 frames; the limit is 10.');
  });
});

describe('readMedia on animations', () => {
  it.each(['counter.gif', 'counter.webp'])('gives the reference 8 frames of %s', async (name) => {
    const expected = goldens.frameIndices[name];
    const media = await readMedia(fixture(name), generousLimits);
    expect(media).toMatchObject({
      kind: 'animation',
      frameCount: expected?.frames,
      frameIndices: expected?.indices,
    });
    expect(media.frames.map(readCounter)).toEqual(expected?.indices);
  });

  it('stops between frames when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(readMedia(fixture('counter.gif'), generousLimits, controller.signal));
    expect(error.code).toBe('ABORTED');
  });
});
