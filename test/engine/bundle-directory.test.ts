import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBundleDirectory } from '../../src/engine/index.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emu-bot-bundle-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('inspectBundleDirectory', () => {
  it('finds a directory with a manifest', async () => {
    const bundle = join(directory, 'ok');
    await mkdir(bundle);
    await writeFile(join(bundle, 'manifest.json'), '{}');
    expect(await inspectBundleDirectory(bundle)).toEqual({ kind: 'present' });
  });

  it('tells missing, not-a-directory and no-manifest apart', async () => {
    const file = join(directory, 'file');
    await writeFile(file, '');
    const empty = join(directory, 'empty');
    await mkdir(empty);
    expect(await inspectBundleDirectory(join(directory, 'nothing'))).toEqual({ kind: 'missing' });
    expect(await inspectBundleDirectory(file)).toEqual({ kind: 'not-a-directory' });
    expect(await inspectBundleDirectory(empty)).toEqual({ kind: 'no-manifest' });
  });
});
