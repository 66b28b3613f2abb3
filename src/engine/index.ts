export { type BundleDirectoryState, inspectBundleDirectory, manifestFileName } from './bundle-directory.js';
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
} from './requests.js';
