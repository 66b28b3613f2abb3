import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/index.js';
import { runInProcess } from '../helpers/cli.js';

const bundles = join(packageRoot, 'test', 'fixtures', 'bundles');
const pixels = join(packageRoot, 'test', 'fixtures', 'pixels');
let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emu-bot-imagine-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('emu-bot imagine', () => {
  it("writes a PNG of the bundle's size and prints its path", async () => {
    const out = join(directory, 'dog.png');
    const argv = [
      'imagine',
      '--bundle',
      join(bundles, 'tiny-pretrain'),
      '--steps',
      '5',
      '--seed',
      '3',
      '--out',
      out,
    ];
    const result = await runInProcess([...argv, 'a dog wearing glasses']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(out)).toBe(true);
    const { format, width, height } = await sharp(await readFile(out)).metadata();
    expect([format, width, height]).toEqual(['png', 64, 64]);
  });

  it('draws from an image and a prompt', async () => {
    const out = join(directory, 'tiger.png');
    const argv = [
      'imagine',
      '--bundle',
      join(bundles, 'tiny-pretrain'),
      '--image',
      join(pixels, 'tiger.jpg'),
    ];
    const result = await runInProcess([...argv, '--steps', '3', '--out', out, 'in the snow']);
    expect(result.code).toBe(0);
    expect((await sharp(await readFile(out)).metadata()).format).toBe('png');
  });

  it("draws with the scheduler asked for, the bundle's by default", async () => {
    const draw = async (name: string, extra: string[]) => {
      const out = join(directory, `${name}.png`);
      const argv = ['imagine', '--bundle', join(bundles, 'tiny-pretrain'), '--steps', '4', ...extra];
      const result = await runInProcess([...argv, '--out', out, 'a red circle']);
      expect(result.code).toBe(0);
      return readFile(out);
    };
    const byDefault = await draw('default', []);
    const pndm = await draw('pndm', ['--scheduler', 'pndm']);
    const ddim = await draw('ddim', ['--scheduler', 'ddim']);
    expect(pndm.equals(byDefault)).toBe(true);
    expect(ddim.equals(byDefault)).toBe(false);
  });

  it.each([
    [
      [
        'imagine',
        '--bundle',
        join(bundles, 'tiny-pretrain'),
        '--scheduler',
        'euler',
        '--out',
        'x.png',
        'a cat',
      ],
      'USAGE',
    ],
    [['imagine', '--bundle', join(bundles, 'tiny-instruct'), '--out', 'x.png', 'a cat'], 'BUNDLE_INVALID'],
    [['imagine', '--bundle', join(bundles, 'tiny-pretrain'), 'a cat'], 'USAGE'],
    [
      ['imagine', '--bundle', join(bundles, 'tiny-pretrain'), '--seed', '-1', '--out', 'x.png', 'a cat'],
      'USAGE',
    ],
    [
      [
        'imagine',
        '--bundle',
        join(bundles, 'tiny-pretrain'),
        '--image',
        join(pixels, 'truncated.png'),
        '--out',
        'x.png',
      ],
      'MEDIA_UNDECODABLE',
    ],
  ])('exits 2 with one line for %j', async (argv, code) => {
    const result = await runInProcess(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error \\[${code}\\]: [^\\n]+\\n$`));
  });
});
