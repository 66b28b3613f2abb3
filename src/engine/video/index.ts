export type { VideoFrame } from './extract-frames.js';
export type { VideoProbe, VideoToolOptions } from './probe-video.js';
export { openVideoFile, type VideoFile } from './video-file.js';
