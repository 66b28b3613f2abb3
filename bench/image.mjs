// The drawing path's benchmark, side by side in one run, reported as ratios.
//
//   npm run bench:image            (uses bench/.bundles/bench-fp32, made by bench:engine)
//
// 1. Visual regression with the KV cache (one prefill, 31 steps) against the reference's way,
//    recomputing the whole sequence for each of the 32 embeddings, at a 200-token prompt.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../dist/engine/bundle/index.js';
import { DecoderPipeline } from '../dist/engine/decoding/decoder-pipeline.js';
import { regressImageEmbeddings } from '../dist/engine/image/regression.js';
import { embedPrompts } from '../dist/engine/prompt/embed-prompt.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundleDirectory = process.argv[2] ?? join(root, 'bench', '.bundles', 'bench-fp32');
if (!existsSync(join(bundleDirectory, 'manifest.json'))) {
  execFileSync(
    '/usr/bin/python3',
    [join(root, 'tools/fixtures/make_fixtures.py'), '--bench-bundle', bundleDirectory],
    {
      stdio: 'inherit',
    },
  );
}
const sessions = {
  devices: [{ kind: 'cpu' }],
  intraOpThreads: 0,
  interOpThreads: 0,
  graphOptimization: 'all',
};
const bundle = await loadBundle(bundleDirectory, sessions);
const { tokens, model } = bundle.manifest;
const decoder = new DecoderPipeline(bundle);

const promptLength = 200;
const ids = [
  tokens.bos,
  ...Array.from({ length: promptLength - 2 }, (_, index) => 300 + (index % 500)),
  tokens.img_start,
];
const time = async (action) => {
  const start = performance.now();
  await action();
  return performance.now() - start;
};

/** The reference's loop: each round runs prompt + k fed embeddings from scratch. */
async function recompute() {
  const prompt = await embedPrompts(bundle, [ids], undefined);
  const hidden = model.hidden_size;
  let fed = new Float32Array(0);
  for (let round = 0; round < model.image_tokens; round++) {
    const length = ids.length + round;
    const inputs = new Float32Array(length * hidden);
    inputs.set(prompt.inputsEmbeds);
    inputs.set(fed, ids.length * hidden);
    const cache = decoder.createCache();
    cache.addRows(1);
    const { regressed } = await decoder.step(cache, {
      inputsEmbeds: inputs,
      positionIds: BigInt64Array.from({ length }, (_, index) => BigInt(index)),
      incomingValid: new Uint8Array(length).fill(1),
      incoming: length,
      keepLast: 1,
    });
    const next = new Float32Array(fed.length + hidden);
    next.set(fed);
    next.set(regressed, fed.length);
    fed = next;
  }
}

await regressImageEmbeddings(bundle, decoder, [{ ids, pixelValues: [], guided: false }]);
const cached = await time(() =>
  regressImageEmbeddings(bundle, decoder, [{ ids, pixelValues: [], guided: false }]),
);
const full = await time(recompute);
console.log(
  `1. regression of ${model.image_tokens} embeddings at a ${promptLength}-token prompt: recomputing ${full.toFixed(0)} ms, with the KV cache ${cached.toFixed(0)} ms: ${(full / cached).toFixed(1)}x (target >= 10x)`,
);
await bundle.release();
