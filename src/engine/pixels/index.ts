export { blurPng } from './blur-png.js';
export { encodePng } from './encode-png.js';
export { referenceFrameCount, referenceFrameIndices, roundHalfToEven } from './frame-indices.js';
export type { ImageLimits, MediaLimits } from './media-limits.js';
export { toPixelValues } from './pixel-values.js';
export { type DecodedMedia, decodeImage, readMedia } from './read-media.js';
export { resizeLikePillow } from './resize-like-pillow.js';
export type { PixelSpec, RgbImage } from './rgb-image.js';
export type { ImageFormat, VideoContainer } from './sniff-format.js';
