import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildPrompt, defaultIntent } from '../../chat/index.js';
import { EmuBotError } from '../../core/index.js';
import { OnnxEngine, readManifest } from '../../engine/index.js';
import type { CommandContext, CommandRunner } from '../context.js';
import { engineSessionSettings } from '../engine-settings.js';
import { collect, localRequest, positiveInteger } from '../local-request.js';

interface RunOptions {
  readonly bundle?: string;
  readonly image: string[];
  readonly video?: string;
  readonly json?: boolean;
  readonly maxNewTokens?: number;
}

export function registerRunCommand(program: Command, run: CommandRunner): void {
  program
    .command('run')
    .description('answer one question about images or a video (with images and no question, describe them)')
    .option('--bundle <dir>', 'the model bundle (default: models.instruct.bundle)')
    .option('--image <file>', 'an image to show the model; repeat for several', collect, [])
    .option('--video <file>', 'a video to show the model (8 frames are taken, as the reference does)')
    .option('--json', 'print one JSON object with text, tokenIds, promptTokens and finishReason')
    .option(
      '--max-new-tokens <n>',
      "the longest answer, in tokens (default: the reference's 128, 512 to describe)",
      positiveInteger,
    )
    .argument('[question]', 'what to ask')
    .action((question: string | undefined, options: RunOptions) =>
      run((context) => answer(context, question ?? '', options)),
    );
}

async function answer(context: CommandContext, question: string, options: RunOptions): Promise<number> {
  const { io, loaded, lifecycle, signal } = context;
  const { config } = loaded;
  const directory =
    options.bundle === undefined ? config.models.instruct.bundle : resolve(io.cwd, options.bundle);
  if (question.trim() === '' && options.image.length === 0 && options.video === undefined) {
    throw new EmuBotError(
      'USAGE',
      'give a question, or --image/--video files to describe (see emu-bot run --help)',
    );
  }
  const manifest = await readManifest(directory);
  const localFiles = [
    ...options.image.map((path) => ({ path: resolve(io.cwd, path), kind: 'image' as const })),
    ...(options.video === undefined
      ? []
      : [{ path: resolve(io.cwd, options.video), kind: 'video' as const }]),
  ];
  const { conversation, outcomes } = await localRequest(question, localFiles, config.media, signal);
  // A file given on the command line that cannot be read or decoded is the caller's mistake:
  // answering without it would hide that (exit 2, as imagine does), and before loading the model.
  for (const [index, file] of localFiles.entries()) {
    const outcome = outcomes.get(`attachment-${index}`);
    if (outcome === undefined || outcome.ok) continue;
    const { error } = outcome;
    if (error.message.includes(file.path)) throw error;
    throw new EmuBotError(error.code, `${file.path}: ${error.message}`, {
      cause: error,
      userMessage: error.userMessage,
    });
  }
  const engine = lifecycle.add(
    'engine',
    await OnnxEngine.load({
      bundles: { [manifest.variant]: directory },
      sessions: engineSessionSettings(config.engine),
      maxBatchRows: config.engine.maxBatchRows,
    }),
  );
  const tokenizer = engine.tokenizer(manifest.variant);
  const intent = manifest.variant === 'pretrain' ? 'continue' : defaultIntent(conversation);
  const built = buildPrompt(conversation, outcomes, {
    intent,
    counter: { countTokens: (text) => tokenizer.encode(text).length },
    seed: 0,
    contextLength: manifest.model.max_positions,
    ...(options.maxNewTokens === undefined ? {} : { text: { maxNewTokens: options.maxNewTokens } }),
  });
  if (built.kind !== 'text') throw new EmuBotError('INTERNAL', 'emu-bot run builds text prompts only');
  const [problem] = built.problems;
  if (problem !== undefined) throw problem.error;

  const streaming = options.json !== true && io.stdout.isTTY === true;
  if (streaming) io.stdout.write(built.answerPrefix === '' ? '' : `${built.answerPrefix} `);
  const result = await engine.generateText(built.request, {
    signal,
    ...(streaming ? { onText: (delta: string) => io.stdout.write(delta) } : {}),
  });
  const text = built.answerPrefix === '' ? result.text : `${built.answerPrefix} ${result.text}`;
  if (options.json === true) {
    io.stdout.write(
      `${JSON.stringify({ text, tokenIds: result.tokenIds, promptTokens: result.promptTokens, finishReason: result.finishReason })}\n`,
    );
  } else {
    io.stdout.write(streaming ? '\n' : `${text}\n`);
  }
  return 0;
}
