export {
  type BundleSessionSettings,
  type DecoderPart,
  type LoadedBundle,
  type LoadedImageDecoder,
  loadBundle,
  readManifest,
} from './load-bundle.js';
export type { Manifest } from './manifest.js';
export { runSelfCheck, type SelfCheckResult } from './selfcheck.js';
