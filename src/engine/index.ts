export {
  type BundleSessionSettings,
  type LoadedBundle,
  loadBundle,
  type Manifest,
  readManifest,
  runSelfCheck,
  type SelfCheckResult,
} from './bundle/index.js';
export { type BundleDirectoryState, inspectBundleDirectory, manifestFileName } from './bundle-directory.js';
export { startEngineThread } from './host/index.js';
export type { Device, GraphOptimization } from './onnx/session.js';
export { type EngineOptions, OnnxEngine } from './onnx-engine.js';
export {
  blurPng,
  type DecodedMedia,
  decodeImage,
  type ImageLimits,
  type MediaLimits,
  type PixelSpec,
  readMedia,
  referenceFrameIndices,
  resizeLikePillow,
  toPixelValues,
} from './pixels/index.js';
export type {
  Engine,
  FinishReason,
  GenerationProgress,
  ImageGenerationSettings,
  ImageRequest,
  ImageResult,
  ModelKind,
  RgbImage,
  RunOptions,
  SamplingSettings,
  TextGenerationSettings,
  TextRequest,
  TextResult,
  VariationSource,
} from './requests.js';
export { EmuTokenizer } from './tokenizer/index.js';
