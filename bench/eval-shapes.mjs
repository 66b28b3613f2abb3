// The trained shapes Emu (issue 12) measured through the TypeScript engine on the fixed held-out
// scenes of test/fixtures/shapes (tools/shapes/heldout.py; seeds never used in training).
//
//   npm run eval:shapes                 (builds dist/ first)
//   node bench/eval-shapes.mjs [--bundle DIR] [--pretrain DIR|none] [--count N] [--guidance X] [--json]
//
// Every request goes the way a chat message goes: a Conversation with the PNG as an attachment,
// src/media's decoder (sharp, Pillow-like resize to 224), src/chat's buildPrompt (describe when
// there is no text, answer otherwise), then OnnxEngine.generateText with the bundle's defaults
// (beam search, 5 beams). Figures:
// - caption: exact match of every object's colour and shape, in order, parsed from the reply;
// - answers: the reply equals the expected answer (case and final punctuation ignored);
// - drawing: each held-out case's "a <colour> <shape>" prompt (`draw` in heldout.json) drawn as
//   `emu-bot imagine` draws (src/chat's imagine prompt, PNDM, the bundle's steps, size and guidance
//   (--guidance X to try another); the noise seed is the case's index) through the pretrain bundle's image decoder; colour: the dominant non-white colour of the PNG (each pixel farther
//   than 60 from white mapped to the nearest spec colour, the most frequent wins, as
//   tools/shapes/scenes.py dominant_colour) is the asked one; shape: the instruct model's own
//   caption of the drawing (describe, as above) names the asked shape. Null when the pretrain
//   bundle has no image decoder.
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

const RGB = {
  red: [220, 30, 30],
  orange: [245, 140, 20],
  yellow: [240, 210, 20],
  green: [30, 170, 60],
  blue: [30, 80, 220],
  purple: [140, 50, 180],
  pink: [240, 120, 180],
  black: [20, 20, 20],
};

/** The spec colour most of the non-white pixels are nearest to (null for an all-white image). */
export function dominantColour({ data }, threshold = 60) {
  const counts = new Map();
  for (let i = 0; i + 2 < data.length; i += 3) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (Math.hypot(255 - r, 255 - g, 255 - b) <= threshold) continue;
    let best = null;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const [name, [cr, cg, cb]] of Object.entries(RGB)) {
      const distance = Math.hypot(r - cr, g - cg, b - cb);
      if (distance < bestDistance) [best, bestDistance] = [name, distance];
    }
    counts.set(best, (counts.get(best) ?? 0) + 1);
  }
  let winner = null;
  for (const [name, n] of counts) if (winner === null || n > counts.get(winner)) winner = name;
  return winner;
}

export async function evaluateShapes({
  bundle,
  count,
  fixtures = join(root, 'test', 'fixtures', 'shapes'),
  pretrain = join(root, 'bundles', 'tiny-pretrain'),
  guidance,
}) {
  const { cases: all } = JSON.parse(readFileSync(join(fixtures, 'heldout.json'), 'utf8'));
  const cases = all.slice(0, count ?? all.length);
  const manifest = await readManifest(bundle);
  const drawing = pretrain === null ? null : await readManifest(pretrain);
  const draws = drawing?.image_decoder != null;
  const engine = await OnnxEngine.load({
    bundles: { [manifest.variant]: bundle, ...(draws ? { pretrain } : {}) },
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
  const conversationOf = (question, name) => ({
    platform: 'console',
    channel: { id: 'eval', nsfw: false },
    messages: [
      {
        id: 'q',
        author: { id: 'you', name: 'you', role: 'person' },
        text: question,
        attachments: name === null ? [] : [{ id: 'a0', name, url: `file://${name}`, declaredKind: 'image' }],
        sentAt: 0,
      },
    ],
  });
  const askMedia = async (media, name, question) => {
    const conversation = conversationOf(question, name);
    const built = buildPrompt(conversation, new Map([['a0', { ok: true, media }]]), {
      intent: defaultIntent(conversation),
      counter: { countTokens: (text) => tokenizer.encode(text).length },
      seed: 0,
      contextLength: manifest.model.max_positions,
    });
    const result = await engine.generateText(built.request);
    return result.text;
  };
  const ask = async (item, question) =>
    askMedia(
      await decoder.decode(new Uint8Array(readFileSync(join(fixtures, item.image)))),
      item.image,
      question,
    );
  // `emu-bot imagine "<prompt>"` with its defaults, then the instruct model's caption of the PNG.
  const draw = async (colour, shape, seed) => {
    const prompt = `a ${colour} ${shape}`;
    const conversation = conversationOf(prompt, null);
    const built = buildPrompt(conversation, new Map(), {
      intent: 'imagine',
      counter: { countTokens: (text) => text.length },
      seed,
      contextLength: drawing.model.max_positions,
      image: {
        steps: drawing.generation.image.num_inference_steps,
        ...(guidance === undefined ? {} : { guidanceScale: Number(guidance) }),
      },
    });
    const { png } = await engine.generateImage(built.request);
    const media = await decoder.decode(png);
    const [frame] = media.frames;
    const found = dominantColour(frame);
    const caption = await askMedia(media, `${colour}-${shape}-${seed}.png`, '');
    return {
      prompt,
      seed,
      colour: found,
      colourOk: found === colour,
      caption,
      shapeOk: parseCaption(caption).some(([, named]) => named === shape),
    };
  };
  const rows = [];
  const drawings = [];
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
    if (draws) {
      const asked = cases.map((item, index) => [...item.draw.split(' ').slice(1), index]);
      for (let start = 0; start < asked.length; start += 8)
        drawings.push(...(await Promise.all(asked.slice(start, start + 8).map((args) => draw(...args)))));
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
    drawings: drawings.length,
    drawColour: draws ? drawings.filter((d) => d.colourOk).length / drawings.length : null,
    drawShape: draws ? drawings.filter((d) => d.shapeOk).length / drawings.length : null,
    rows,
    drawingRows: drawings,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bundle = argument('--bundle', join(root, 'bundles', 'tiny-instruct'));
  const count = argument('--count', undefined);
  const pretrain = argument('--pretrain', join(root, 'bundles', 'tiny-pretrain'));
  const started = performance.now();
  const figures = await evaluateShapes({
    bundle,
    pretrain: pretrain === 'none' ? null : pretrain,
    count: count === undefined ? undefined : Number(count),
    guidance: argument('--guidance', undefined),
  });
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
    for (const d of figures.drawingRows.filter((r) => !r.colourOk || !r.shapeOk).slice(0, 10))
      console.log(`draw miss "${d.prompt}" seed ${d.seed}: dominant ${d.colour}, caption "${d.caption}"`);
    console.log(
      `drawing (${figures.drawings} drawings), colour: ${pct(figures.drawColour)} (threshold ${100 * THRESHOLDS.drawColour}%); ` +
        `shape: ${pct(figures.drawShape)} (threshold ${100 * THRESHOLDS.drawShape}%)`,
    );
  }
  process.exit(0);
}
