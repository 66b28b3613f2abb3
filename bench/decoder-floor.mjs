// What bounds a decoder step on this machine, beside the engine (a diagnostic for bench:image):
//
//   node bench/decoder-floor.mjs
//
// 1. the machine's read bandwidth: two threads comparing two halves of a buffer (memcmp speed),
//    and the time to read the bench bundle's step weights (0.58 GiB) at that speed;
// 2. onnxruntime's MatMuls alone: the bench bundle's decoder reduced to its weight MatMuls
//    (bench/decoder_floor.py) run on one position, against the whole decoder graph's step.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const root = fileURLToPath(new URL('..', import.meta.url));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const stepBytes = 12 * (4 * 1024 * 1024 + 3 * 1024 * 2816) * 4 + 1024 * 1024 * 4;

const bytes = 1 << 30;
const shared = new SharedArrayBuffer(bytes);
new Uint8Array(shared).fill(1);
const reader = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { shared, offset, length } = workerData;
  const half = length / 2;
  parentPort.on('message', () => {
    Buffer.from(shared, offset, half).compare(Buffer.from(shared, offset + half, half));
    parentPort.postMessage('done');
  });`;
const threads = [0, 1].map(
  (index) =>
    new Worker(reader, {
      eval: true,
      workerData: { shared, offset: (index * bytes) / 2, length: bytes / 2 },
    }),
);
const readAll = () =>
  Promise.all(
    threads.map(
      (thread) => new Promise((resolve) => thread.once('message', resolve) && thread.postMessage('go')),
    ),
  );
await readAll();
const readTimes = [];
for (let round = 0; round < 5; round++) {
  const start = performance.now();
  await readAll();
  readTimes.push(performance.now() - start);
}
await Promise.all(threads.map((thread) => thread.terminate()));
const bandwidth = bytes / (median(readTimes) / 1000);
console.log(
  `1. read bandwidth, 2 threads: ${(bandwidth / 1e9).toFixed(1)} GB/s; a step's ${(stepBytes / 2 ** 30).toFixed(2)} GiB of weights at that speed: ${((stepBytes / bandwidth) * 1000).toFixed(1)} ms`,
);

const directory = join(root, 'bench', '.bundles');
mkdirSync(directory, { recursive: true });
const floorGraph = join(directory, 'decoder-floor.onnx');
if (!existsSync(floorGraph))
  execFileSync('/usr/bin/python3', [join(root, 'bench', 'decoder_floor.py'), floorGraph]);
const session = await ort.InferenceSession.create(floorGraph, { graphOptimizationLevel: 'all' });
const feeds = { hidden: new ort.Tensor('float32', new Float32Array(1024).fill(0.01), [1, 1, 1024]) };
for (let run = 0; run < 5; run++) await session.run(feeds);
const runs = [];
for (let run = 0; run < 30; run++) {
  const start = performance.now();
  await session.run(feeds);
  runs.push(performance.now() - start);
}
await session.release();
console.log(
  `2. the decoder's weight MatMuls alone, one position: ${median(runs).toFixed(2)} ms (median of 30)`,
);
