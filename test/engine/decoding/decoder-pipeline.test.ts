import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { packageRoot } from '../../../src/core/index.js';
import type { LoadedBundle } from '../../../src/engine/bundle/index.js';
import { parseManifest } from '../../../src/engine/bundle/manifest.js';
import { DecoderPipeline } from '../../../src/engine/decoding/decoder-pipeline.js';
import { GraphSession, type Tensor, tensor } from '../../../src/engine/onnx/session.js';
import { cpuSettings } from '../helpers.js';

const splits = join(packageRoot, 'test', 'fixtures', 'decoder-splits');

/** Just the decoder of a split fixture (it has no vision or embedding graphs: inputs are embeddings). */
async function loadDecoder(name: string): Promise<LoadedBundle> {
  const directory = join(splits, name);
  const manifestFile = join(directory, 'manifest.json');
  const manifest = parseManifest(JSON.parse(await readFile(manifestFile, 'utf8')), manifestFile);
  const decoder = await Promise.all(
    (manifest.graphs?.decoder ?? []).map(async (entry) => ({
      entry,
      session: await GraphSession.load(join(directory, entry.file), {
        ...cpuSettings,
        device: { kind: 'cpu' },
      }),
    })),
  );
  const unused = undefined as never;
  return {
    directory,
    manifest,
    vision: unused,
    embedTokens: unused,
    imageDecoder: null,
    decoder,
    release: async () => {
      await Promise.all(decoder.map((part) => part.session.release()));
    },
  };
}

/** Seeded embeddings (a small linear congruential generator: the same numbers for every split). */
function embeddings(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 30 - 1;
  });
}

async function runDecoder(
  name: string,
  heads = { keepLogits: 1, keepRegressed: 1 },
): Promise<Float32Array[]> {
  const bundle = await loadDecoder(name);
  try {
    const pipeline = new DecoderPipeline(bundle);
    const cache = pipeline.createCache();
    const hidden = bundle.manifest.model.hidden_size;
    cache.addRows(2);
    const outputs: Float32Array[] = [];
    // Row 0 is left-padded by two; both rows then take three single-token steps.
    const prefill = await pipeline.step(cache, {
      inputsEmbeds: embeddings(2 * 5 * hidden, 1),
      positionIds: BigInt64Array.from([1, 1, 0, 1, 2, 0, 1, 2, 3, 4], BigInt),
      incomingValid: Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]),
      incoming: 5,
      keepLogits: 2,
      keepRegressed: 2,
    });
    outputs.push(prefill.logits, prefill.regressed);
    for (let step = 0; step < 3; step++) {
      const next = await pipeline.step(cache, {
        inputsEmbeds: embeddings(2 * hidden, 10 + step),
        positionIds: BigInt64Array.from([3 + step, 5 + step], BigInt),
        incomingValid: Uint8Array.from([1, 1]),
        incoming: 1,
        ...heads,
      });
      outputs.push(next.logits, next.regressed);
    }
    return outputs;
  } finally {
    await bundle.release();
  }
}

function maxDifference(left: Float32Array[], right: Float32Array[]): number {
  let largest = 0;
  left.forEach((array, index) => {
    const other = right[index] as Float32Array;
    expect(other.length).toBe(array.length);
    for (let i = 0; i < array.length; i++)
      largest = Math.max(largest, Math.abs((array[i] as number) - (other[i] as number)));
  });
  return largest;
}

describe('DecoderPipeline over layer ranges', () => {
  it.each(['split2', 'split4'])("gives the whole decoder's logits and regressions with %s", async (name) => {
    const whole = await runDecoder('split1');
    const split = await runDecoder(name);
    expect(whole).toHaveLength(8);
    expect(whole[0]?.length).toBe(2 * 2 * 64);
    expect(maxDifference(whole, split)).toBeLessThan(1e-5);
  });

  it('runs each head only on the positions asked of it', async () => {
    const both = await runDecoder('split2');
    const logitsOnly = await runDecoder('split2', { keepLogits: 1, keepRegressed: 0 });
    const regressedOnly = await runDecoder('split2', { keepLogits: 0, keepRegressed: 1 });
    // Outputs alternate logits, regressed: the prefill's pair, then each step's.
    for (const step of [2, 4, 6]) {
      expect(logitsOnly[step]).toEqual(both[step]);
      expect(logitsOnly[step + 1]).toHaveLength(0);
      expect(regressedOnly[step]).toHaveLength(0);
      expect(regressedOnly[step + 1]).toEqual(both[step + 1]);
    }
  });

  it('prefills an empty cache without reading its capacity of masked slots, with the same result', async () => {
    const bundle = await loadDecoder('split1');
    try {
      const part = bundle.decoder[0];
      if (part === undefined) throw new Error('split1 has no decoder graph');
      const {
        hidden_size: hidden,
        num_heads: heads,
        head_dim: headDim,
        num_layers: layers,
      } = bundle.manifest.model;
      const run = vi.spyOn(part.session, 'run');
      const pipeline = new DecoderPipeline(bundle);
      const cache = pipeline.createCache();
      cache.addRows(1);
      const inputsEmbeds = embeddings(5 * hidden, 1);
      const positionIds = BigInt64Array.from([0, 1, 2, 3, 4], BigInt);
      const prefill = await pipeline.step(cache, {
        inputsEmbeds,
        positionIds,
        incomingValid: new Uint8Array(5).fill(1),
        incoming: 5,
        keepLogits: 1,
        keepRegressed: 1,
      });
      const prefillFeeds = run.mock.calls[0]?.[0];
      expect(prefillFeeds?.['past_key_values.0.key']?.dims).toEqual([1, heads, 0, headDim]);
      expect(prefillFeeds?.['attention_mask']?.dims).toEqual([1, 5]);
      await pipeline.step(cache, {
        inputsEmbeds: embeddings(hidden, 2),
        positionIds: BigInt64Array.of(5n),
        incomingValid: Uint8Array.of(1),
        incoming: 1,
        keepLogits: 1,
        keepRegressed: 1,
      });
      expect(run.mock.calls[1]?.[0]['past_key_values.0.key']?.dims).toEqual([1, heads, 16, headDim]);
      run.mockRestore();

      // The same prefill attending over 16 masked past slots, as it did before.
      const capacity = 16;
      const feeds: Record<string, Tensor> = {
        inputs_embeds: tensor('float32', inputsEmbeds, [1, 5, hidden]),
        attention_mask: tensor(
          'int64',
          BigInt64Array.from({ length: capacity + 5 }, (_, slot) => (slot < capacity ? 0n : 1n)),
          [1, capacity + 5],
        ),
        position_ids: tensor('int64', positionIds, [1, 5]),
        num_logits_to_keep: tensor('int64', BigInt64Array.of(1n), []),
        num_regressed_to_keep: tensor('int64', BigInt64Array.of(1n), []),
      };
      for (let layer = 0; layer < layers; layer++) {
        for (const kind of ['key', 'value']) {
          feeds[`past_key_values.${layer}.${kind}`] = tensor(
            'float32',
            new Float32Array(heads * capacity * headDim),
            [1, heads, capacity, headDim],
          );
        }
      }
      const masked = await part.session.run(feeds);
      expect(
        maxDifference(
          [prefill.logits, prefill.regressed],
          [masked['logits']?.data as Float32Array, masked['regressed_embeds']?.data as Float32Array],
        ),
      ).toBeLessThan(1e-6);
    } finally {
      await bundle.release();
    }
  });
});
