import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVideoFile, type VideoToolOptions } from '../../../src/engine/video/index.js';
import { fixture, fixtureDirectory, readCounter } from '../pixels/fixtures.js';

const tools: VideoToolOptions = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', timeoutMs: 20_000 };

// A private TMPDIR (this file runs in its own process), so left-over copies can be counted.
const scratch = mkdtempSync(join(tmpdir(), 'emu-bot-video-file-test-'));
const temporary = join(scratch, 'tmp');
const originalTmpdir = process.env['TMPDIR'];
beforeAll(() => {
  mkdirSync(temporary);
  process.env['TMPDIR'] = temporary;
});
afterAll(() => {
  if (originalTmpdir === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = originalTmpdir;
  rmSync(scratch, { recursive: true, force: true });
});

/** Re-muxes or encodes a small video with ffmpeg for one test. */
function makeVideo(name: string, args: string[]): Uint8Array {
  const path = join(scratch, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, path]);
  return new Uint8Array(readFileSync(path));
}

describe('openVideoFile', () => {
  it('probes the container and reads frames in any order, repeats included', async () => {
    const video = await openVideoFile(fixture('counter.mp4'), tools);
    try {
      expect(video.probe).toEqual({ width: 64, height: 48, frameCount: 30, durationSeconds: 3 });
      const frames = await video.readFrames([0, 29, 5, 5]);
      expect(frames.map(readCounter)).toEqual([0, 29, 5, 5]);
      expect(frames[0]?.data).toHaveLength(64 * 48 * 3);
    } finally {
      await video.close();
    }
  });

  it('removes its temporary copy on close, and on a failed probe', async () => {
    const video = await openVideoFile(fixture('counter.webm'), tools);
    expect(readdirSync(temporary)).toHaveLength(1);
    await video.close();
    await video.close();
    expect(readdirSync(temporary)).toEqual([]);
    await expect(openVideoFile(fixture('truncated.mp4'), tools)).rejects.toMatchObject({
      code: 'MEDIA_UNDECODABLE',
    });
    expect(readdirSync(temporary)).toEqual([]);
  });

  it('gives frames as displayed when the file says to rotate them', async () => {
    const counter = join(fixtureDirectory, 'counter.mp4');
    const rotated = makeVideo('rotated.mp4', ['-i', counter, '-c', 'copy', '-metadata:s:v', 'rotate=90']);
    const video = await openVideoFile(rotated, tools);
    try {
      expect(video.probe).toMatchObject({ width: 48, height: 64 });
      const [frame] = await video.readFrames([29]);
      expect(frame).toMatchObject({ width: 48, height: 64 });
      // The counter's vertical bars now run across: every row is one colour, and rows differ.
      const rows = Array.from(
        { length: 64 },
        (_, row) => new Set(frame?.data.subarray(row * 144 + 24, row * 144 + 120)),
      );
      expect(rows.filter((values) => Math.max(...values) - Math.min(...values) > 40)).toEqual([]);
      expect(new Set(rows.map((values) => (Math.max(...values) > 128 ? 1 : 0))).size).toBe(2);
    } finally {
      await video.close();
    }
  });

  it('scales frames above 1080p down inside ffmpeg, keeping their shape', async () => {
    const large = makeVideo('large.mp4', [
      ...['-f', 'lavfi', '-i', 'color=c=red:s=2240x1260:r=10:d=0.2'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ]);
    const video = await openVideoFile(large, tools);
    try {
      expect(video.probe).toMatchObject({ width: 2240, height: 1260, frameCount: 2 });
      const frames = await video.readFrames([0, 1]);
      for (const frame of frames) {
        expect(frame.width * frame.height).toBeLessThanOrEqual(1920 * 1080);
        expect(frame.width / frame.height).toBeCloseTo(16 / 9, 2);
        expect(frame.data).toHaveLength(frame.width * frame.height * 3);
        expect([...frame.data.subarray(0, 3)].map((value) => Math.round(value / 64))).toEqual([4, 0, 0]);
      }
    } finally {
      await video.close();
    }
  });
});
