import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/index.js';
import { runInProcess } from '../helpers/cli.js';

const bundle = join(packageRoot, 'test', 'fixtures', 'bundles', 'tiny-instruct');
const pixels = join(packageRoot, 'test', 'fixtures', 'pixels');
const goldens = (await import('../fixtures/goldens/tiny-instruct.json', { with: { type: 'json' } }))
  .default as {
  prompts: { name: string; text: string; ids: number[] }[];
};

describe('emu-bot tokenize', () => {
  it('prints the ids as one JSON array with BOS', async () => {
    const prompt = goldens.prompts.find((candidate) => candidate.name === 'text-only');
    const result = await runInProcess(['tokenize', '--bundle', bundle, prompt?.text ?? '']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(prompt?.ids);
  });

  it('exits 2 naming the bundle when it has no manifest', async () => {
    const result = await runInProcess(['tokenize', '--bundle', pixels, 'hello']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[BUNDLE_INVALID\]: .*manifest\.json cannot be read/);
  });
});

describe('emu-bot run', () => {
  it('answers a question about an image as one JSON object', async () => {
    const result = await runInProcess([
      'run',
      '--bundle',
      bundle,
      '--image',
      join(pixels, 'tiger.jpg'),
      '--max-new-tokens',
      '6',
      '--json',
      'what is the animal doing?',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as {
      text: string;
      tokenIds: number[];
      promptTokens: number;
      finishReason: string;
    };
    expect(answer.tokenIds.length).toBeLessThanOrEqual(6);
    expect(answer.promptTokens).toBeGreaterThan(34);
    expect(typeof answer.text).toBe('string');
  });

  it('describes images given without a question, with the caption prefix', async () => {
    const result = await runInProcess([
      'run',
      '--bundle',
      bundle,
      '--image',
      join(pixels, 'cat.jpg'),
      '--max-new-tokens',
      '3',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^The image depicts a photo of /);
  });

  it.each([
    [
      'an undecodable image',
      ['--image', join(pixels, 'truncated.png')],
      'MEDIA_UNDECODABLE',
      /truncated\.png/,
    ],
    ['a missing image', ['--image', join(pixels, 'absent.png')], 'MEDIA_UNDECODABLE', /absent\.png: ENOENT/],
    ['a missing video', ['--video', join(pixels, 'absent.mp4')], 'MEDIA_UNDECODABLE', /absent\.mp4: ENOENT/],
  ])('exits 2 for %s instead of answering without it', async (_name, files, code, message) => {
    const result = await runInProcess([
      'run',
      '--bundle',
      bundle,
      ...files,
      '--max-new-tokens',
      '2',
      'hello?',
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^error \\[${code}\\]: [^\\n]+\\n$`));
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [['run', '--bundle', bundle], 'USAGE'],
    [['run', '--bundle', bundle, '--image', join(pixels, 'text-named.png')], 'MEDIA_UNSUPPORTED'],
    [['run', '--bundle', bundle, '--max-new-tokens', 'lots', 'hi'], 'USAGE'],
    [['run', '--bundle', join(pixels, 'nowhere'), 'hi'], 'BUNDLE_INVALID'],
  ])('exits 2 with one line for %j', async (argv, code) => {
    const result = await runInProcess(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error \\[${code}\\]: [^\\n]+\\n$`));
  });
});
