// The engine's benchmark: side-by-side figures from one run, reported as ratios.
//
//   npm run bench:engine            (generates bench/.bundles/bench-fp32 the first time)
//
// 1. Engine overhead per decode step over a raw session.run of the same decoder graph.
// 2. Decode time per token against the memory-bandwidth floor (decoder weight bytes / bandwidth).
// 3. Batched against one-by-one throughput at 1, 2, 4 and 8 concurrent prompts (medians of 3).
// 4. A vision batch of 8 images against 8 single calls.
// 5. A 200-token prefill into an empty cache, over the cache's masked capacity (as the engine
//    once did) against reading no past slots (raw session.run both).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadBundle, OnnxEngine } from '../dist/engine/index.js';
import { encodeImages } from '../dist/engine/prompt/embed-prompt.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundleDirectory = process.argv[2] ?? join(root, 'bench', '.bundles', 'bench-fp32');
const sessions = {
  devices: [{ kind: 'cpu' }],
  intraOpThreads: 0,
  interOpThreads: 0,
  graphOptimization: 'all',
};

if (!existsSync(join(bundleDirectory, 'manifest.json'))) {
  console.log(`generating the benchmark bundle in ${bundleDirectory} (a few minutes, once)`);
  execFileSync(
    '/usr/bin/python3',
    [join(root, 'tools/fixtures/make_fixtures.py'), '--bench-bundle', bundleDirectory],
    {
      stdio: 'inherit',
    },
  );
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const time = async (action) => {
  const start = performance.now();
  await action();
  return performance.now() - start;
};
const ratio = (value) => `${value.toFixed(2)}x`;

/** Read bandwidth from memcmp of two equal 512 MiB buffers (native, reads both, writes nothing). */
function readBandwidth() {
  const size = 512 * 2 ** 20;
  const left = Buffer.alloc(size, 7);
  const right = Buffer.alloc(size, 7);
  const runs = [];
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    left.compare(right);
    runs.push((2 * size) / ((performance.now() - start) / 1000));
  }
  return median(runs);
}

function decoderWeightBytes(bundle) {
  return bundle.manifest.graphs.decoder
    .flatMap((entry) => [entry.file, ...entry.external_data])
    .reduce((total, file) => total + statSync(join(bundleDirectory, file)).size, 0);
}

function promptOf(tokens) {
  return 'word '.repeat(Math.max(1, tokens - 2)).trim();
}

function textRequest(model, prompt, maxNewTokens) {
  return {
    model,
    prompt,
    images: [],
    settings: { maxNewTokens, numBeams: 1, lengthPenalty: 1, minLength: 1, repetitionPenalty: 1 },
  };
}

const engine = await OnnxEngine.load({ bundles: { pretrain: bundleDirectory }, sessions, maxBatchRows: 16 });
const model = engine.models[0];
const bundle = await loadBundle(bundleDirectory, sessions);
const { manifest } = bundle;
console.log(
  `bundle: ${manifest.model.num_layers} layers, hidden ${manifest.model.hidden_size}, ${(decoderWeightBytes(bundle) / 2 ** 30).toFixed(2)} GiB of decoder weights (${manifest.dtype})`,
);

/** The slots KvCache holds for `positions`: powers of two from 16, as its `reserve` grows them. */
function cacheCapacity(positions) {
  let capacity = 16;
  while (capacity < positions) capacity *= 2;
  return Math.min(capacity, manifest.model.max_positions);
}

// 1. Raw session.run of the decoder graph, one new token, against the engine's decode step
//    (embedding, mask, cache write, search and streaming included), both at the same cache
//    capacity: the prompt and every measured step fit the capacity the engine's cache takes.
const steps = 48;
const prompt = promptOf(72);
const promptTokens = engine.tokenizer(model).encode(prompt, { addBos: true }).length;
const capacity = cacheCapacity(promptTokens + steps + 1);
if (cacheCapacity(promptTokens) !== capacity) throw new Error('the measured steps would grow the cache');
const decoder = bundle.decoder[0].session;
const { num_heads: heads, head_dim: headDim, hidden_size: hidden, num_layers: layers } = manifest.model;
// The slots a step halfway through the measured ones attends to, the rest masked as the engine's.
const attended = promptTokens + steps / 2;
const mask = new BigInt64Array(capacity + 1);
mask.fill(1n, 0, attended);
mask[capacity] = 1n;

/** Feeds of the decoder graph for new tokens at `positions` over `pastSlots` cache slots. */
function decoderFeeds(attentionMask, positions, pastSlots) {
  const incoming = positions.length;
  const inputs = {
    inputs_embeds: new ort.Tensor('float32', new Float32Array(incoming * hidden).fill(0.01), [
      1,
      incoming,
      hidden,
    ]),
    attention_mask: new ort.Tensor('int64', attentionMask, [1, pastSlots + incoming]),
    position_ids: new ort.Tensor('int64', positions, [1, incoming]),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
    num_regressed_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
  };
  for (let layer = 0; layer < layers; layer++) {
    for (const kind of ['key', 'value']) {
      inputs[`past_key_values.${layer}.${kind}`] = new ort.Tensor(
        'float32',
        new Float32Array(heads * pastSlots * headDim).fill(0.01),
        [1, heads, pastSlots, headDim],
      );
    }
  }
  return inputs;
}
const feeds = decoderFeeds(mask, BigInt64Array.of(BigInt(attended)), capacity);

// The engine's step is the interval between consecutive streamed tokens: everything the engine
// does per token (embedding, decoder, cache writes, search, streaming) and nothing it does once
// per request. Raw runs and engine generations alternate, so drift in the machine's speed hits
// both sides alike.
for (let run = 0; run < 5; run++) await decoder.run(feeds);
await engine.generateText(textRequest(model, prompt, 4));
const rawRuns = [];
const intervals = [];
for (let round = 0; round < 3; round++) {
  for (let run = 0; run < 16; run++) rawRuns.push(await time(() => decoder.run(feeds)));
  const stamps = [];
  await engine.generateText(textRequest(model, prompt, steps + 1), {
    onText: () => stamps.push(performance.now()),
  });
  for (let index = 2; index < stamps.length; index++) intervals.push(stamps[index] - stamps[index - 1]);
}
const raw = median(rawRuns);
const engineStep = median(intervals);
console.log(
  `1. decode step at a ${capacity}-slot cache (${promptTokens}-token prompt): raw session.run ${raw.toFixed(2)} ms, engine ${engineStep.toFixed(2)} ms: overhead ${(((engineStep - raw) / raw) * 100).toFixed(1)}% (target <= 5%)`,
);

// 2. The memory-bandwidth floor: every step reads every decoder weight once.
const bandwidth = readBandwidth();
const floor = (decoderWeightBytes(bundle) / bandwidth) * 1000;
console.log(
  `2. per token ${engineStep.toFixed(2)} ms against a floor of ${floor.toFixed(2)} ms (${(bandwidth / 2 ** 30).toFixed(1)} GiB/s read): ${ratio(engineStep / floor)} the floor (target <= 2x)`,
);

// 3. N prompts at once against the same N one after another.
const newTokens = 32;
const prompts = Array.from({ length: 8 }, (_, index) => promptOf(40 + index * 9));
for (const concurrency of [1, 2, 4, 8]) {
  const batch = prompts.slice(0, concurrency).map((text) => textRequest(model, text, newTokens));
  const sequential = [];
  const batched = [];
  for (let repeat = 0; repeat < 3; repeat++) {
    sequential.push(
      await time(async () => {
        for (const request of batch) await engine.generateText(request);
      }),
    );
    batched.push(await time(() => Promise.all(batch.map((request) => engine.generateText(request)))));
  }
  const oneByOne = median(sequential);
  const together = median(batched);
  console.log(
    `3. ${concurrency} prompt(s): one by one ${((concurrency * newTokens) / (oneByOne / 1000)).toFixed(1)} tokens/s, batched ${((concurrency * newTokens) / (together / 1000)).toFixed(1)} tokens/s: ${ratio(oneByOne / together)} (target >= 3x at 8)`,
  );
}

// 4. Vision: one batch of 8 against 8 calls of 1.
const size = manifest.image_preprocessing.size;
const pixels = new Float32Array(3 * size * size).fill(0.1);
await encodeImages(bundle, [pixels]);
const singleRuns = [];
for (let run = 0; run < 3; run++) {
  singleRuns.push(
    await time(async () => {
      for (let image = 0; image < 8; image++) await encodeImages(bundle, [pixels]);
    }),
  );
}
const singles = median(singleRuns);
const batched = [];
for (let run = 0; run < 3; run++)
  batched.push(
    await time(() =>
      encodeImages(
        bundle,
        Array.from({ length: 8 }, () => pixels),
      ),
    ),
  );
console.log(
  `4. vision: 8 single calls ${singles.toFixed(1)} ms, one batch of 8 ${median(batched).toFixed(1)} ms: ${ratio(singles / median(batched))}`,
);

// 5. A 200-token prefill into an empty cache: over the cache's capacity of masked slots (256, as
// the engine did until it stopped reading an empty cache's past) against reading no past slots.
const prefillTokens = 200;
const prefillFeeds = (pastSlots) =>
  decoderFeeds(
    new BigInt64Array(pastSlots + prefillTokens).fill(1n, pastSlots),
    BigInt64Array.from({ length: prefillTokens }, (_, index) => BigInt(index)),
    pastSlots,
  );
const overCapacity = prefillFeeds(cacheCapacity(prefillTokens));
const noPast = prefillFeeds(0);
await decoder.run(overCapacity);
await decoder.run(noPast);
const capacityRuns = [];
const noPastRuns = [];
for (let run = 0; run < 3; run++) {
  capacityRuns.push(await time(() => decoder.run(overCapacity)));
  noPastRuns.push(await time(() => decoder.run(noPast)));
}
console.log(
  `5. a ${prefillTokens}-token prefill into an empty cache: over ${cacheCapacity(prefillTokens)} masked slots ${median(capacityRuns).toFixed(0)} ms, reading no past ${median(noPastRuns).toFixed(0)} ms: ${ratio(median(capacityRuns) / median(noPastRuns))} (medians of 3)`,
);

await bundle.release();
await engine.close();
