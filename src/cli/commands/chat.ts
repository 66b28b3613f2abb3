import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { buildPrompt, defaultIntent, omissionNote, problemNotes } from '../../chat/index.js';
import { EmuBotError, toEmuBotError } from '../../core/index.js';
import { blurPng, type Manifest, OnnxEngine, readManifest } from '../../engine/index.js';
import { type ChatInput, chatHelp, parseChatInput } from '../chat/chat-input.js';
import { ConsoleThread } from '../chat/console-thread.js';
import type { CommandContext, CommandRunner } from '../context.js';
import { engineSessionSettings } from '../engine-settings.js';
import { progressBar } from '../progress-bar.js';

interface ChatOptions {
  readonly instruct?: string;
  readonly pretrain?: string;
  readonly outDir: string;
  readonly seed: number;
}

export function registerChatCommand(program: Command, run: CommandRunner): void {
  program
    .command('chat')
    .description('talk to Emu in this terminal, with images, videos and drawings (no tokens, Redis or GPU)')
    .option('--instruct <dir>', 'the bundle that answers (default: models.instruct.bundle)')
    .option('--pretrain <dir>', 'the bundle that draws (default: models.pretrain.bundle)')
    .option('--out-dir <dir>', 'where drawings are written', 'emu-drawings')
    .option('--seed <n>', 'the first drawing seed; each drawing takes the next', seedNumber, 0)
    .action((options: ChatOptions) => run((context) => chat(context, options)));
}

function seedNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed >= 2 ** 32) {
    throw new EmuBotError('USAGE', `--seed: expected a whole number from 0 to 4294967295, got "${value}"`);
  }
  return parsed;
}

interface LoadedModel {
  readonly engine: OnnxEngine;
  readonly manifest: Manifest;
  readonly directory: string;
}

/**
 * The console chat: one thread, answered by the instruct model as the chat adapters answer a
 * thread; drawings by the pretrained model, loaded on the first /imagine.
 */
async function chat(context: CommandContext, options: ChatOptions): Promise<number> {
  const { io, loaded, lifecycle, signal } = context;
  const { config } = loaded;
  const out = (text: string) => io.stdout.write(text);
  const interactive = io.stdin.isTTY === true && io.stdout.isTTY === true;

  const load = async (directory: string, name: string): Promise<LoadedModel> => {
    const manifest = await readManifest(directory);
    const engine = lifecycle.add(
      name,
      await OnnxEngine.load({
        bundles: { [manifest.variant]: directory },
        sessions: engineSessionSettings(config.engine),
        maxBatchRows: config.engine.maxBatchRows,
      }),
    );
    return { engine, manifest, directory };
  };
  const instructDirectory =
    options.instruct === undefined ? config.models.instruct.bundle : resolve(io.cwd, options.instruct);
  const pretrainDirectory =
    options.pretrain === undefined ? config.models.pretrain.bundle : resolve(io.cwd, options.pretrain);
  const answering = await load(instructDirectory, 'answering engine');
  let drawing: Promise<LoadedModel> | undefined;
  const drawingModel = () => {
    drawing ??= load(pretrainDirectory, 'drawing engine');
    return drawing;
  };

  // Created once the model is loaded: lines read before anyone listens would be lost.
  const console = createInterface({ input: io.stdin, output: io.stdout, terminal: interactive });
  lifecycle.add('console', { close: () => console.close() });
  const thread = new ConsoleThread(config.media);
  let nextSeed = options.seed;
  let current: AbortController | undefined;
  console.on('SIGINT', () => {
    if (current === undefined) console.close();
    else current.abort();
  });

  const answer = async (text: string, turn: AbortSignal) => {
    const conversation = thread.send(text);
    const { engine, manifest } = answering;
    const tokenizer = engine.tokenizer(manifest.variant);
    const built = buildPrompt(conversation, thread.outcomes, {
      intent: manifest.variant === 'pretrain' ? 'continue' : defaultIntent(conversation),
      counter: { countTokens: (prompt) => tokenizer.encode(prompt).length },
      seed: 0,
      contextLength: manifest.model.max_positions,
    });
    if (built.kind !== 'text')
      throw new EmuBotError('INTERNAL', 'emu-bot chat builds text prompts for answers');
    for (const note of [...problemNotes(built.problems), omissionNote(built.omission)]) {
      if (note !== undefined) out(`(${note})\n`);
    }
    out(`emu> ${built.answerPrefix === '' ? '' : `${built.answerPrefix} `}`);
    let streamed = '';
    const result = await engine.generateText(built.request, {
      signal: turn,
      onText: (delta) => {
        streamed += delta;
        out(delta);
      },
    });
    // Beam search decides the answer only at the end; what was not streamed is printed now.
    out(`${result.text.startsWith(streamed) ? result.text.slice(streamed.length) : ''}\n`);
    thread.reply(built.answerPrefix === '' ? result.text : `${built.answerPrefix} ${result.text}`);
  };

  const imagine = async (prompt: string, turn: AbortSignal) => {
    const { engine, manifest, directory } = await drawingModel();
    const decoder = manifest.image_decoder;
    if (manifest.variant !== 'pretrain' || decoder === null) {
      throw new EmuBotError(
        'BUNDLE_INVALID',
        `${directory} cannot draw: it is not a pretrained bundle with an image decoder`,
        {
          userMessage: `The drawing model (${directory}) has no image decoder, so I cannot draw with it. Point models.pretrain.bundle or --pretrain at a pretrained bundle exported with its decoder.`,
        },
      );
    }
    const seed = nextSeed;
    const built = buildPrompt(thread.standalone(prompt), thread.outcomes, {
      intent: 'imagine',
      counter: { countTokens: (text) => engine.tokenizer('pretrain').encode(text).length },
      seed,
      contextLength: manifest.model.max_positions,
      // Guidance and size are the bundle's own (the engine's defaults).
      ...(manifest.generation.image === undefined
        ? {}
        : { image: { steps: manifest.generation.image.num_inference_steps } }),
    });
    if (built.kind !== 'image')
      throw new EmuBotError('INTERNAL', 'emu-bot chat builds image prompts for /imagine');
    const [problem] = built.problems;
    if (problem !== undefined) throw problem.error;
    nextSeed = (nextSeed + 1) % 2 ** 32;
    const bar = progressBar(io.stdout);
    const result = await engine.generateImage(built.request, { signal: turn, onProgress: bar.update });
    bar.done();
    thread.clearPending();
    if (result.flagged && config.moderation.flaggedImages === 'refuse') {
      out('emu> The safety checker flagged that drawing, so I did not save it.\n');
      return;
    }
    const png = result.flagged ? await blurPng(result.png) : result.png;
    const directoryOut = resolve(io.cwd, options.outDir);
    await mkdir(directoryOut, { recursive: true });
    const path = join(directoryOut, `emu-${Date.now()}-seed${seed}.png`);
    await writeFile(path, png);
    out(
      `emu> drew "${prompt}" (seed ${seed}${result.flagged ? ', blurred: flagged by the safety checker' : ''}): ${path}\n`,
    );
  };

  const handle = async (input: ChatInput, turn: AbortSignal): Promise<'continue' | 'quit'> => {
    switch (input.kind) {
      case 'quit':
        return 'quit';
      case 'help':
        out(`${chatHelp}\n`);
        break;
      case 'new-thread':
        thread.clear();
        out('(a new thread: earlier messages and attachments are forgotten)\n');
        break;
      case 'mistake':
        out(`(${input.message})\n`);
        break;
      case 'attach': {
        const media = await thread.attach(resolve(io.cwd, input.path), input.as, turn);
        const frames = media.frames.length === 1 ? '' : `, ${media.frames.length} frames`;
        out(
          `(attached ${input.path}: ${media.kind}${frames}; it goes with your next message, or press Enter to have it described)\n`,
        );
        break;
      }
      case 'imagine':
        await imagine(input.prompt, turn);
        break;
      case 'message':
        if (input.text === '' && thread.pending.length === 0) break;
        try {
          await answer(input.text, turn);
        } catch (error) {
          thread.forgetLast();
          throw error;
        }
        break;
    }
    return 'continue';
  };

  out(`Emu (${answering.directory}). Type a message; /help lists the commands, /quit leaves.\n`);
  await converse(console, async (line) => {
    current = new AbortController();
    const turn = AbortSignal.any([signal, current.signal]);
    try {
      return await handle(parseChatInput(line), turn);
    } catch (error) {
      const failure = toEmuBotError(error);
      if (failure.code === 'ABORTED' && !signal.aborted) out('\n(stopped)\n');
      else if (signal.aborted) return 'quit';
      else
        out(
          `\n(${failure.userMessage}${failure.blame === 'input' ? '' : ` [${failure.code}: ${failure.message}]`})\n`,
        );
      return 'continue';
    } finally {
      current = undefined;
    }
  });
  return 0;
}

/** Reads lines one at a time (typed-ahead lines wait their turn) until the input ends or `quit`. */
async function converse(console: Interface, handleLine: (line: string) => Promise<'continue' | 'quit'>) {
  console.setPrompt('you> ');
  console.prompt();
  for await (const line of console) {
    if ((await handleLine(line)) === 'quit') break;
    console.prompt();
  }
  console.close();
}
