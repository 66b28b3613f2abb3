import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/index.js';
import type { BundleSessionSettings } from '../../src/engine/index.js';
import { decodeImage } from '../../src/engine/pixels/index.js';
import type { ModelKind, RgbImage, TextRequest } from '../../src/engine/requests.js';

export const fixtureBundles = join(packageRoot, 'test', 'fixtures', 'bundles');

export const cpuSettings: BundleSessionSettings = {
  devices: [{ kind: 'cpu' }],
  intraOpThreads: 1,
  interOpThreads: 1,
  graphOptimization: 'all',
};

export interface GoldenPrompt {
  readonly name: string;
  readonly text: string;
  readonly image_placeholder: string;
  readonly images: readonly string[];
  readonly ids: readonly number[];
}

export interface GoldenGeneration {
  readonly prompts: readonly string[];
  readonly mode: 'greedy' | 'beam';
  readonly num_beams?: number;
  readonly length_penalty?: number;
  readonly max_new_tokens: number;
  readonly min_length: number;
  readonly tokens: readonly (readonly number[])[];
  readonly text: readonly string[];
}

export interface Goldens {
  readonly prompts: readonly GoldenPrompt[];
  readonly generation: readonly GoldenGeneration[];
}

export function readGoldens(bundle: 'tiny-instruct' | 'tiny-pretrain'): Goldens {
  return JSON.parse(
    readFileSync(join(packageRoot, 'test', 'fixtures', 'goldens', `${bundle}.json`), 'utf8'),
  ) as Goldens;
}

/** The reference's image placeholder: `[IMG]`, one `<image>` per embedding, `[/IMG]`. */
export function imagePlaceholder(imageTokens: number): string {
  return `[IMG]${'<image>'.repeat(imageTokens)}[/IMG]`;
}

export async function fixtureImage(name: string): Promise<RgbImage> {
  const bytes = readFileSync(join(packageRoot, 'test', 'fixtures', 'pixels', name));
  return decodeImage(new Uint8Array(bytes), { maxBytes: 50_000_000, maxPixels: 50_000_000, maxFrames: 1000 });
}

export function goldenPrompt(goldens: Goldens, name: string): GoldenPrompt {
  const prompt = goldens.prompts.find((candidate) => candidate.name === name);
  if (prompt === undefined) throw new Error(`no golden prompt ${name}`);
  return prompt;
}

/** The request a golden generation ran: its prompt with the 32-embedding image placeholders. */
export async function goldenRequest(
  model: ModelKind,
  prompt: GoldenPrompt,
  generation: GoldenGeneration,
): Promise<TextRequest> {
  return {
    model,
    prompt: prompt.text.split(prompt.image_placeholder).join(imagePlaceholder(32)),
    images: await Promise.all(prompt.images.map(fixtureImage)),
    settings: {
      maxNewTokens: generation.max_new_tokens,
      numBeams: generation.mode === 'beam' ? (generation.num_beams ?? 5) : 1,
      lengthPenalty: generation.length_penalty ?? 1,
      minLength: generation.min_length,
      repetitionPenalty: 1,
    },
  };
}
