import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/index.js';
import { createPixelsDecoder, loadAttachments, type MediaOutcome } from '../../src/media/index.js';

const pixels = (name: string) => readFileSync(join(packageRoot, 'test', 'fixtures', 'pixels', name));
const decoder = createPixelsDecoder({
  maxBytes: 10_000_000,
  maxPixels: 4_000_000,
  maxFrames: 500,
  maxVideoSeconds: 60,
  ffmpegPath: 'ffmpeg',
  ffprobePath: 'ffprobe',
  ffmpegTimeoutMs: 10_000,
});

/** A GIF of `frames` 1x1 frames, written byte by byte. */
function gif(width: number, height: number, frames: number): Uint8Array {
  const u16 = (value: number) => [value & 255, value >> 8];
  const header = [
    ...Buffer.from('GIF89a'),
    ...u16(width),
    ...u16(height),
    0x80,
    0,
    0,
    0,
    0,
    0,
    255,
    255,
    255,
  ];
  const netscape = [0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0];
  const frame = [
    0x21,
    0xf9,
    4,
    0,
    1,
    0,
    0,
    0,
    0x2c,
    0,
    0,
    0,
    0,
    ...u16(1),
    ...u16(1),
    0,
    2,
    2,
    0x44,
    0x01,
    0,
  ];
  return Uint8Array.from([
    ...header,
    ...netscape,
    ...Array.from({ length: frames }, () => frame).flat(),
    0x3b,
  ]);
}

const svg = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">' +
    '<image xlink:href="http://169.254.169.254/latest/meta-data/" width="10" height="10"/></svg>',
);
const html = Buffer.from('<!DOCTYPE html><html><body><img src="x.jpg"></body></html>');

const attachments: Record<string, Uint8Array> = {
  'good.jpg': pixels('cat.jpg'),
  'empty.png': new Uint8Array(0),
  'truncated.jpg': pixels('cat.jpg').subarray(0, 600),
  'notes.png': Buffer.from('these are my notes, not a picture'),
  'flood.png': pixels('bomb.png'),
  'huge-animation.gif': gif(1, 1, 2000),
  'external.svg': svg,
  'page.jpg': html,
};

async function loadAll(): Promise<Map<string, MediaOutcome>> {
  const list = Object.keys(attachments).map((name) => ({
    id: name,
    name,
    url: `https://cdn.discordapp.com/${name}`,
  }));
  return loadAttachments(list, async (attachment) => attachments[attachment.name] as Uint8Array, decoder);
}

describe('loadAttachments with the pixels decoder', () => {
  it('decodes the good file to a 224x224 frame and gives each bad one a typed, polite error', async () => {
    const outcomes = await loadAll();
    const good = outcomes.get('good.jpg');
    expect(good?.ok && good.media.kind).toBe('image');
    expect(good?.ok && good.media.frames[0]).toMatchObject({ width: 224, height: 224 });
    const codes = Object.fromEntries(
      [...outcomes].map(([name, outcome]) => [name, outcome.ok ? 'ok' : outcome.error.code]),
    );
    expect(codes).toEqual({
      'good.jpg': 'ok',
      'empty.png': 'MEDIA_UNDECODABLE',
      'truncated.jpg': 'MEDIA_UNDECODABLE',
      'notes.png': 'MEDIA_UNSUPPORTED',
      'flood.png': 'MEDIA_TOO_LARGE',
      'huge-animation.gif': 'MEDIA_TOO_LARGE',
      'external.svg': 'MEDIA_UNSUPPORTED',
      'page.jpg': 'MEDIA_UNSUPPORTED',
    });
    for (const outcome of outcomes.values()) {
      if (!outcome.ok) expect(outcome.error.userMessage.length).toBeLessThan(160);
    }
  });

  it('fails the whole load with ABORTED only when the request is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const list = [{ id: 'a', name: 'good.jpg', url: 'https://cdn.discordapp.com/a' }];
    await expect(
      loadAttachments(list, async () => pixels('cat.jpg'), decoder, controller.signal),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
