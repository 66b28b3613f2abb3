import {
  inputSafetyArgs,
  lastLine,
  undecodableVideo,
  type VideoProbe,
  type VideoToolOptions,
} from './probe-video.js';
import { runBounded } from './run-bounded.js';

/** 8-bit RGB, row by row; the same shape as the pixels module's RgbImage. */
export interface VideoFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Frames larger than this (1080p) are scaled down inside ffmpeg before they cross the pipe, so
 * eight frames of a 4K or 8K video stay around 50 MB. The model sees 224x224 in the end; an area
 * pre-shrink of a larger frame changes the final pixels by far less than the codecs' own noise.
 */
export const maxDecodedFramePixels = 1920 * 1080;

/** ffmpeg refuses any single allocation above this: a forged header cannot ask for gigabytes. */
const maxAllocationBytes = 256 * 1024 * 1024;

/**
 * Decodes the frames at `indices` (0-based, in presentation order; repeats allowed) in one pass:
 * the select filter drops every other frame before conversion and scaling, and ffmpeg stops after
 * the last wanted one. Returns one frame per entry of `indices`.
 */
export async function extractFrames(
  path: string,
  probe: VideoProbe,
  indices: readonly number[],
  options: VideoToolOptions,
  signal?: AbortSignal,
): Promise<VideoFrame[]> {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const { width, height } = outputSize(probe);
  const frameBytes = width * height * 3;
  const select = wanted.map((index) => `eq(n,${index})`).join('+');
  // Scaling to an explicit size also fixes the output's byte count, whatever the rotation.
  const flags = width * height < probe.width * probe.height ? ':flags=area' : '';
  const args = [
    ...['-v', 'error', '-nostdin', '-hide_banner', '-max_alloc', String(maxAllocationBytes)],
    ...[...inputSafetyArgs, '-i', `file:${path}`, '-map', '0:v:0', '-an', '-sn', '-dn'],
    ...['-vf', `select='${select}',scale=${width}:${height}${flags}`],
    // Passthrough: without it ffmpeg duplicates frames to keep a constant rate across the gaps.
    ...['-fps_mode', 'passthrough', '-frames:v', String(wanted.length)],
    ...['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
  ];
  const result = await runBounded(options.ffmpegPath, args, {
    timeoutMs: options.timeoutMs,
    maxOutputBytes: frameBytes * wanted.length,
    signal,
  });
  if (result.exitCode !== 0) throw undecodableVideo(`ffmpeg: ${lastLine(result.stderr)}`);
  const decoded = Math.floor(result.stdout.length / frameBytes);
  if (decoded < wanted.length) {
    throw undecodableVideo(
      `frames ${wanted.join(', ')} of ${probe.frameCount} were wanted but only ${decoded} could be decoded`,
    );
  }
  const byIndex = new Map(
    wanted.map((index, order) => [
      index,
      new Uint8Array(result.stdout.buffer, result.stdout.byteOffset + order * frameBytes, frameBytes),
    ]),
  );
  return indices.map((index) => ({ width, height, data: byIndex.get(index) ?? new Uint8Array(frameBytes) }));
}

function outputSize(probe: VideoProbe): { width: number; height: number } {
  const pixels = probe.width * probe.height;
  if (pixels <= maxDecodedFramePixels) return { width: probe.width, height: probe.height };
  const scale = Math.sqrt(maxDecodedFramePixels / pixels);
  // Even sizes keep every chroma subsampling happy.
  const even = (value: number): number => Math.max(2, Math.floor((value * scale) / 2) * 2);
  return { width: even(probe.width), height: even(probe.height) };
}
