import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { buildPrompt } from '../../chat/index.js';
import { EmuBotError } from '../../core/index.js';
import { OnnxEngine, readManifest } from '../../engine/index.js';
import type { CommandContext, CommandRunner } from '../context.js';
import { engineSessionSettings } from '../engine-settings.js';
import { collect, localRequest, positiveInteger } from '../local-request.js';
import { progressBar } from '../progress-bar.js';

interface ImagineOptions {
  readonly bundle?: string;
  readonly image: string[];
  readonly seed?: number;
  readonly steps?: number;
  readonly guidance?: number;
  readonly scheduler?: 'pndm' | 'ddim';
  readonly out: string;
}

export function registerImagineCommand(program: Command, run: CommandRunner): void {
  program
    .command('imagine')
    .description('draw a PNG from a prompt; images given come first (blending, in-context generation)')
    .option('--bundle <dir>', 'the pretrained model bundle (default: models.pretrain.bundle)')
    .option('--image <file>', 'an image to draw from; repeat for two to four to blend', collect, [])
    .option('--seed <n>', 'the noise seed: the same seed draws the same image (default 0)', wholeNumber)
    .option('--steps <n>', "denoising steps (default: the bundle's; Emu's 50)", positiveInteger)
    .option(
      '--guidance <x>',
      "classifier-free guidance scale; 1 turns it off (default: the bundle's; Emu's 7.5, 10 in context)",
      guidance,
    )
    .option(
      '--scheduler <name>',
      "pndm (the reference's) or ddim (as good in fewer steps); default: the bundle's",
      schedulerName,
    )
    .requiredOption('--out <file.png>', 'where to write the PNG')
    .argument('[prompt]', 'what to draw')
    .action((prompt: string | undefined, options: ImagineOptions) =>
      run((context) => imagine(context, prompt ?? '', options)),
    );
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed >= 2 ** 32) {
    throw new InvalidArgumentError(`expected a whole number from 0 to 4294967295, got "${value}"`);
  }
  return parsed;
}

function schedulerName(value: string): 'pndm' | 'ddim' {
  if (value !== 'pndm' && value !== 'ddim')
    throw new InvalidArgumentError(`expected pndm or ddim, got "${value}"`);
  return value;
}

function guidance(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 50)
    throw new InvalidArgumentError(`expected a number from 0 to 50, got "${value}"`);
  return parsed;
}

async function imagine(context: CommandContext, prompt: string, options: ImagineOptions): Promise<number> {
  const { io, loaded, lifecycle, signal } = context;
  const { config } = loaded;
  const directory =
    options.bundle === undefined ? config.models.pretrain.bundle : resolve(io.cwd, options.bundle);
  const manifest = await readManifest(directory);
  const drawing = manifest.image_decoder;
  if (manifest.variant !== 'pretrain' || drawing === null) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${directory} cannot draw: it is not a pretrained bundle with an image decoder`,
    );
  }
  const files = options.image.map((path) => ({ path: resolve(io.cwd, path), kind: 'image' as const }));
  const { conversation, outcomes } = await localRequest(prompt, files, config.media, signal);
  const steps = options.steps ?? manifest.generation.image?.num_inference_steps;
  const built = buildPrompt(conversation, outcomes, {
    intent: 'imagine',
    counter: { countTokens: (text) => text.length },
    seed: options.seed ?? 0,
    contextLength: manifest.model.max_positions,
    // Guidance and size left out are the bundle's own (the engine's defaults).
    image: {
      ...(steps === undefined ? {} : { steps }),
      ...(options.guidance === undefined ? {} : { guidanceScale: options.guidance }),
    },
  });
  if (built.kind !== 'image') throw new EmuBotError('INTERNAL', 'emu-bot imagine builds image prompts only');
  // Drawing from a broken image would silently ignore it: refuse instead.
  const [problem] = built.problems;
  if (problem !== undefined) throw problem.error;

  const engine = lifecycle.add(
    'engine',
    await OnnxEngine.load({
      bundles: { pretrain: directory },
      sessions: engineSessionSettings(config.engine),
      maxBatchRows: config.engine.maxBatchRows,
    }),
  );
  const bar = progressBar(io.stderr);
  const request =
    options.scheduler === undefined
      ? built.request
      : { ...built.request, settings: { ...built.request.settings, scheduler: options.scheduler } };
  const result = await engine.generateImage(request, { signal, onProgress: bar.update });
  bar.done();
  const out = resolve(io.cwd, options.out);
  await writeFile(out, result.png);
  io.stdout.write(`${out}${result.flagged ? ' (flagged by the safety checker)' : ''}\n`);
  return 0;
}
