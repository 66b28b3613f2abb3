import { EmuBotError } from '../../core/index.js';
import { runBounded } from './run-bounded.js';

export interface VideoToolOptions {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  /** Bound on each ffprobe or ffmpeg run. */
  readonly timeoutMs: number;
}

export interface VideoProbe {
  /**
   * As displayed: rotation metadata applied, as ffmpeg applies it when decoding. The reference's
   * decord ignores rotation; a phone's portrait video would reach the model on its side.
   */
  readonly width: number;
  readonly height: number;
  /**
   * Packets of the first video stream, which is what the reference's decord (0.6) counts as
   * len(VideoReader); it is nb_frames for an ordinary MP4, and WebM has no nb_frames at all.
   */
  readonly frameCount: number;
  /** Undefined when neither the container nor the stream says. */
  readonly durationSeconds: number | undefined;
}

/**
 * Only these demuxers may open a file: an HLS playlist or a concat list could otherwise make
 * ffmpeg open other files or URLs. The sniffer sends only MP4/MOV and Matroska/WebM here.
 */
export const allowedDemuxers = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm';
export const inputSafetyArgs = ['-protocol_whitelist', 'file', '-format_whitelist', allowedDemuxers];

/** Demuxes (no decoding) to count packets: quick even for long videos. */
export async function probeVideo(
  path: string,
  options: VideoToolOptions,
  signal?: AbortSignal,
): Promise<VideoProbe> {
  const args = [
    ...['-v', 'error', '-hide_banner', ...inputSafetyArgs, '-select_streams', 'v:0', '-count_packets'],
    ...['-show_entries', 'stream=width,height,nb_frames,nb_read_packets,duration:stream_side_data=rotation'],
    ...['-show_entries', 'format=duration', '-of', 'json', `file:${path}`],
  ];
  const result = await runBounded(options.ffprobePath, args, {
    timeoutMs: options.timeoutMs,
    maxOutputBytes: 1 << 20,
    signal,
  });
  if (result.exitCode !== 0) throw undecodableVideo(`ffprobe: ${lastLine(result.stderr)}`);
  const parsed = JSON.parse(result.stdout.toString('utf8')) as FfprobeOutput;
  const stream = parsed.streams?.[0];
  const width = Number(stream?.width);
  const height = Number(stream?.height);
  if (stream === undefined || !(width > 0 && height > 0)) throw undecodableVideo('no video stream');
  const packets = Number(stream.nb_read_packets);
  const frameCount = packets > 0 ? packets : Number(stream.nb_frames);
  if (!(frameCount > 0)) throw undecodableVideo('the video stream has no frames');
  const rotation = Number(stream.side_data_list?.find((data) => data.rotation !== undefined)?.rotation ?? 0);
  const turned = Math.abs(rotation) % 180 === 90;
  const duration = Number(parsed.format?.duration ?? stream.duration);
  return {
    width: turned ? height : width,
    height: turned ? width : height,
    frameCount,
    durationSeconds: duration > 0 ? duration : undefined,
  };
}

interface FfprobeOutput {
  readonly streams?: readonly {
    readonly width?: number;
    readonly height?: number;
    readonly nb_frames?: string;
    readonly nb_read_packets?: string;
    readonly duration?: string;
    readonly side_data_list?: readonly { readonly rotation?: number }[];
  }[];
  readonly format?: { readonly duration?: string };
}

export function undecodableVideo(reason: string): EmuBotError {
  return new EmuBotError('MEDIA_UNDECODABLE', `video could not be decoded: ${reason}`, {
    userMessage: 'I could not read that video; it may be damaged, incomplete or in a format I do not know.',
  });
}

export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) || 'no message';
}
