export { type BundleDirectoryState, inspectBundleDirectory, manifestFileName } from './bundle-directory.js';
