import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const manifestFileName = 'manifest.json';

export type BundleDirectoryState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-a-directory' }
  | { readonly kind: 'unreadable'; readonly reason: string }
  | { readonly kind: 'no-manifest' }
  | { readonly kind: 'present' };

/**
 * What can be said about a bundle directory without loading it: whether it exists, can be read,
 * and holds a manifest. Loading and validating the manifest and graphs is the bundle loader's job.
 */
export async function inspectBundleDirectory(path: string): Promise<BundleDirectoryState> {
  try {
    if (!(await stat(path)).isDirectory()) return { kind: 'not-a-directory' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    await access(path, constants.R_OK | constants.X_OK);
  } catch (error) {
    return { kind: 'unreadable', reason: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    await access(join(path, manifestFileName), constants.R_OK);
  } catch {
    return { kind: 'no-manifest' };
  }
  return { kind: 'present' };
}
