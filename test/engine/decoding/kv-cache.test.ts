import { describe, expect, it } from 'vitest';
import { EmuBotError } from '../../../src/core/index.js';
import { KvCache } from '../../../src/engine/decoding/kv-cache.js';

const shape = { layers: 2, heads: 2, headDim: 3, type: 'float32' as const, maxPositions: 64 };

/** New keys for `rows` rows and `incoming` tokens whose values encode (layer, row, head, token, dim). */
function newEntries(layer: number, rows: number, incoming: number, tag: number): Float32Array {
  const data = new Float32Array(rows * shape.heads * incoming * shape.headDim);
  let index = 0;
  for (let row = 0; row < rows; row++)
    for (let head = 0; head < shape.heads; head++)
      for (let token = 0; token < incoming; token++)
        for (let dim = 0; dim < shape.headDim; dim++)
          data[index++] = tag + layer * 1000 + row * 100 + head * 10 + token + dim / 10;
  return data;
}

function step(cache: KvCache, incoming: number, valid: Uint8Array, tag: number): void {
  cache.reserve(incoming);
  for (let layer = 0; layer < shape.layers; layer++) {
    const entries = newEntries(layer, cache.rows, incoming, tag);
    cache.write(
      layer,
      entries,
      entries.map((value) => -value),
      incoming,
    );
  }
  cache.commit(incoming, valid);
}

function slot(cache: KvCache, layer: number, row: number, head: number, position: number): number[] {
  const { keys, dims } = cache.past(layer);
  const start = ((row * dims[1] + head) * dims[2] + position) * dims[3];
  return [...keys.subarray(start, start + dims[3])];
}

describe('KvCache', () => {
  it("writes new entries into each row's next slots and masks padding", () => {
    const cache = new KvCache(shape);
    cache.addRows(2);
    // Row 0 has 3 real tokens; row 1 is left-padded by one.
    step(cache, 3, Uint8Array.from([1, 1, 1, 0, 1, 1]), 0);
    expect(cache.length(0)).toBe(3);
    expect(cache.capacity).toBe(16);
    expect(slot(cache, 1, 1, 1, 2)).toEqual([1112, 1112.1, 1112.2].map(Math.fround));
    const mask = cache.attentionMask(1, Uint8Array.from([1, 1]));
    const width = cache.capacity + 1;
    expect([...mask.subarray(0, 4)]).toEqual([1n, 1n, 1n, 0n]);
    expect([...mask.subarray(width, width + 4)]).toEqual([0n, 1n, 1n, 0n]);
    expect(mask[width - 1]).toBe(1n);
    expect(mask[2 * width - 1]).toBe(1n);
  });

  it('keeps contents and validity when it grows', () => {
    const cache = new KvCache(shape);
    cache.addRows(1);
    step(cache, 10, new Uint8Array(10).fill(1), 0);
    const before = slot(cache, 0, 0, 1, 9);
    step(cache, 10, new Uint8Array(10).fill(1), 5000);
    expect(cache.capacity).toBe(32);
    expect(slot(cache, 0, 0, 1, 9)).toEqual(before);
    expect(slot(cache, 0, 0, 1, 10)).toEqual([5010, 5010.1, 5010.2].map(Math.fround));
    expect(cache.past(0).dims).toEqual([1, 2, 32, 3]);
  });

  it('reorders rows for beam search, duplicating where asked', () => {
    const cache = new KvCache(shape);
    cache.addRows(3);
    step(cache, 2, new Uint8Array(6).fill(1), 0);
    const rowTwo = slot(cache, 1, 2, 0, 1);
    cache.reorder([2, 2, 0]);
    expect(cache.rows).toBe(3);
    expect(slot(cache, 1, 0, 0, 1)).toEqual(rowTwo);
    expect(slot(cache, 1, 1, 0, 1)).toEqual(rowTwo);
    // The next write lands after the reordered rows' own lengths.
    step(cache, 1, new Uint8Array(3).fill(1), 7000);
    expect(slot(cache, 0, 2, 0, 2)).toEqual([7200, 7200.1, 7200.2].map(Math.fround));
  });

  it('lets rows of different lengths share a batch and leave it', () => {
    const cache = new KvCache(shape);
    cache.addRows(1);
    step(cache, 4, new Uint8Array(4).fill(1), 0);
    const joined = cache.addRows(1);
    expect(joined).toBe(1);
    expect(cache.length(1)).toBe(0);
    step(cache, 1, Uint8Array.from([1, 1]), 9000);
    expect(cache.length(0)).toBe(5);
    expect(cache.length(1)).toBe(1);
    expect(slot(cache, 0, 1, 0, 0)).toEqual([9100, 9100.1, 9100.2].map(Math.fround));
    cache.removeRows([0]);
    expect(cache.rows).toBe(1);
    expect(cache.length(0)).toBe(1);
    expect(slot(cache, 0, 0, 0, 0)).toEqual([9100, 9100.1, 9100.2].map(Math.fround));
  });

  it("refuses to grow past the model's context", () => {
    const cache = new KvCache({ ...shape, maxPositions: 20 });
    cache.addRows(1);
    step(cache, 16, new Uint8Array(16).fill(1), 0);
    expect(() => cache.reserve(5)).toThrow(EmuBotError);
    cache.reserve(4);
    expect(cache.capacity).toBe(20);
  });
});

describe('KvCache.append', () => {
  it("moves a prefilled cache's rows behind the running ones", () => {
    const running = new KvCache(shape);
    running.addRows(1);
    step(running, 20, new Uint8Array(20).fill(1), 0);
    const prefill = new KvCache(shape);
    prefill.addRows(2);
    step(prefill, 3, Uint8Array.from([0, 1, 1, 1, 1, 1]), 3000);
    const fromPrefill = slot(prefill, 1, 1, 1, 2);
    running.append(prefill);
    expect(prefill.rows).toBe(0);
    expect(running.rows).toBe(3);
    expect(running.capacity).toBe(32);
    expect(slot(running, 1, 2, 1, 2)).toEqual(fromPrefill);
    expect([running.tokens(0), running.tokens(1), running.tokens(2)]).toEqual([20, 2, 3]);
    const mask = running.attentionMask(1, new Uint8Array(3).fill(1));
    const width = running.capacity + 1;
    expect([...mask.subarray(width, width + 4)]).toEqual([0n, 1n, 1n, 0n]);
  });
});
