// The trained shapes Emu (issue 12) measured through the TypeScript engine on the fixed held-out
// scenes of test/fixtures/shapes (tools/shapes/heldout.py; seeds never used in training).
//
//   npm run eval:shapes                 (builds dist/ first)
//   node bench/eval-shapes.mjs [--bundle DIR] [--count N] [--json]
//
// Every request goes the way a chat message goes: a Conversation with the PNG as an attachment,
// src/media's decoder (sharp, Pillow-like resize to 224), src/chat's buildPrompt (describe when
// there is no text, answer otherwise), then OnnxEngine.generateText with the bundle's defaults
// (beam search, 5 beams). Figures:
// - caption: exact match of every object's colour and shape, in order, parsed from the reply;
// - answers: the reply equals the expected answer (case and final punctuation ignored);
// - drawing ("a <colour> <shape>"): needs the image decoder in the pretrain bundle; reported as
//   not measured until it has one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildPrompt, defaultIntent } from '../dist/chat/index.js';
import { OnnxEngine, readManifest } from '../dist/engine/index.js';
import { createPixelsDecoder } from '../dist/media/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SHAPES = ['circle', 'square', 'triangle', 'star', 'diamond'];
const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'black'];
export const THRESHOLDS = { caption: 0.9, answer: 0.85, drawColour: 0.8, drawShape: 0.6 };

function argument(name, fallback) {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
}

/** (colour, shape) pairs named in a caption, in order, as tools/shapes/scenes.py parse_caption. */
export function parseCaption(text) {
  const words = text.split(/\s+/).map((word) => word.replace(/^[.,!?;:]+|[.,!?;:]+$/g, '').toLowerCase());
  const found = [];
  for (let i = 1; i < words.length; i += 1)
    if (SHAPES.includes(words[i]) && COLOURS.includes(words[i - 1])) found.push([words[i - 1], words[i]]);
  return found;
}

const normalise = (text) =>
  text
    .trim()
    .toLowerCase()
    .replace(/[.!]+$/, '');

export async function evaluateShapes({ bundle, count, fixtures = join(root, 'test', 'fixtures', 'shapes') }) {
  const { cases: all } = JSON.parse(readFileSync(join(fixtures, 'heldout.json'), 'utf8'));
  const cases = all.slice(0, count ?? all.length);
  const manifest = await readManifest(bundle);
  const engine = await OnnxEngine.load({
    bundles: { [manifest.variant]: bundle },
    sessions: { devices: [{ kind: 'cpu' }], intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all' },
    maxBatchRows: 16,
  });
  const tokenizer = engine.tokenizer(manifest.variant);
  const decoder = createPixelsDecoder({
    maxBytes: 25_000_000,
    maxPixels: 40_000_000,
    maxFrames: 18_000,
    maxVideoSeconds: 300,
    ffmpegPath: 'ffmpeg',
    ffprobePath: 'ffprobe',
    ffmpegTimeoutMs: 30_000,
  });
  const ask = async (item, question) => {
    const conversation = {
      platform: 'console',
      channel: { id: 'eval', nsfw: false },
      messages: [
        {
          id: 'q',
          author: { id: 'you', name: 'you', role: 'person' },
          text: question,
          attachments: [{ id: 'a0', name: item.image, url: `file://${item.image}`, declaredKind: 'image' }],
          sentAt: 0,
        },
      ],
    };
    const media = await decoder.decode(new Uint8Array(readFileSync(join(fixtures, item.image))));
    const built = buildPrompt(conversation, new Map([['a0', { ok: true, media }]]), {
      intent: defaultIntent(conversation),
      counter: { countTokens: (text) => tokenizer.encode(text).length },
      seed: 0,
      contextLength: manifest.model.max_positions,
    });
    const result = await engine.generateText(built.request);
    return result.text;
  };
  const rows = [];
  try {
    // A few at a time: the engine batches concurrent requests.
    for (let start = 0; start < cases.length; start += 8) {
      const chunk = cases.slice(start, start + 8);
      const done = await Promise.all(
        chunk.map(async (item) => {
          const [caption, answer] = await Promise.all([ask(item, ''), ask(item, item.question)]);
          const parsed = parseCaption(caption);
          return {
            image: item.image,
            expectedCaption: item.caption,
            caption,
            captionOk: JSON.stringify(parsed) === JSON.stringify(item.objects),
            question: item.question,
            expectedAnswer: item.answer,
            answer,
            answerOk: normalise(answer) === normalise(item.answer),
          };
        }),
      );
      rows.push(...done);
    }
  } finally {
    await engine.close?.();
  }
  const rate = (key) => rows.filter((row) => row[key]).length / rows.length;
  return {
    bundle,
    scenes: rows.length,
    caption: rate('captionOk'),
    answer: rate('answerOk'),
    drawColour: null,
    drawShape: null,
    rows,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bundle = argument('--bundle', join(root, 'bundles', 'tiny-instruct'));
  const count = argument('--count', undefined);
  const started = performance.now();
  const figures = await evaluateShapes({ bundle, count: count === undefined ? undefined : Number(count) });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } else {
    for (const row of figures.rows.filter((r) => !r.captionOk || !r.answerOk).slice(0, 10))
      console.log(
        `miss ${row.image}: "${row.caption}" (want ${row.expectedCaption}); ${row.question} -> "${row.answer}" (want ${row.expectedAnswer})`,
      );
    const pct = (x) =>
      x === null ? 'not measured (no image decoder in the pretrain bundle yet)' : `${(100 * x).toFixed(1)}%`;
    console.log(
      `held-out scenes: ${figures.scenes} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
    console.log(`caption exact match: ${pct(figures.caption)} (threshold ${100 * THRESHOLDS.caption}%)`);
    console.log(`answers: ${pct(figures.answer)} (threshold ${100 * THRESHOLDS.answer}%)`);
    console.log(`drawing, colour: ${pct(figures.drawColour)}; shape: ${pct(figures.drawShape)}`);
  }
  process.exit(0);
}
