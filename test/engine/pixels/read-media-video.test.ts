import { describe, expect, it } from 'vitest';
import { type EmuBotError, isEmuBotError } from '../../../src/core/index.js';
import { readMedia } from '../../../src/engine/pixels/index.js';
import { fixture, generousLimits, goldens, readCounter } from './fixtures.js';

async function failure(promise: Promise<unknown>): Promise<EmuBotError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isEmuBotError(error)) throw new Error(`expected an EmuBotError, got ${String(error)}`);
  return error;
}

describe('readMedia on videos', () => {
  it.each([
    ['counter.mp4', 'mp4'],
    ['counter.webm', 'webm'],
    ['counter.mov', 'mp4'],
  ])(
    'gives the reference 8 frames of %s, read back from the counter each frame shows',
    async (name, format) => {
      const expected = goldens.frameIndices[name];
      const media = await readMedia(fixture(name), generousLimits);
      expect(media).toMatchObject({
        kind: 'video',
        format,
        frameCount: expected?.frames,
        frameIndices: expected?.indices,
      });
      expect(media.frames.map((frame) => [frame.width, frame.height])).toEqual(Array(8).fill([64, 48]));
      expect(media.frames.map(readCounter)).toEqual(expected?.indices);
    },
  );

  it('reports a truncated MP4 as MEDIA_UNDECODABLE', async () => {
    const error = await failure(readMedia(fixture('truncated.mp4'), generousLimits));
    expect(error.code).toBe('MEDIA_UNDECODABLE');
  });

  it.each([
    [{ maxFrames: 20 }, 'That video has 30 frames; the limit is 20.'],
    [{ maxVideoSeconds: 2 }, 'That video is 3 seconds long; the limit is 2 seconds.'],
    [{ maxPixels: 3000 }, 'That video is 64x48 pixels; the limit is 3000 pixels.'],
  ])('refuses a video over its limits (%o) from the probe', async (overrides, userMessage) => {
    const error = await failure(readMedia(fixture('counter.mp4'), { ...generousLimits, ...overrides }));
    expect(error.code).toBe('MEDIA_TOO_LARGE');
    expect(error.userMessage).toBe(userMessage);
  });

  it.each([
    ['ffprobe', { ffprobePath: '/nonexistent/ffprobe' }],
    ['ffmpeg', { ffmpegPath: '/nonexistent/ffmpeg' }],
  ])('reports a missing %s as FFMPEG_UNAVAILABLE', async (_, overrides) => {
    const error = await failure(readMedia(fixture('counter.webm'), { ...generousLimits, ...overrides }));
    expect(error.code).toBe('FFMPEG_UNAVAILABLE');
    expect(error.message).toMatch(/ENOENT/);
    expect(error.userMessage).not.toMatch(/nonexistent/);
  });
});
