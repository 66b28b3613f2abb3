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

  it('reads no past slots while every row is empty, then its whole capacity', () => {
    const cache = new KvCache(shape);
    cache.addRows(2);
    cache.reserve(5);
    expect(cache.capacity).toBe(16);
    expect(cache.slotsRead).toBe(0);
    expect(cache.past(0).dims).toEqual([2, 2, 0, 3]);
    expect(cache.past(0).keys).toHaveLength(0);
    const mask = cache.attentionMask(2, Uint8Array.from([0, 1, 1, 1]));
    expect([...mask]).toEqual([0n, 1n, 1n, 1n]);
    step(cache, 2, Uint8Array.from([0, 1, 1, 1]), 0);
    expect(cache.slotsRead).toBe(16);
    expect(cache.past(0).dims).toEqual([2, 2, 16, 3]);
    expect(cache.attentionMask(1, Uint8Array.from([1, 1]))).toHaveLength(2 * 17);
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

/** Every row's used slots (keys and values, every layer and head) and validity, as plain data. */
function snapshot(cache: KvCache): string[] {
  const { dims } = cache.past(0);
  return Array.from({ length: cache.rows }, (_, row) => {
    const parts: number[] = [];
    for (let layer = 0; layer < shape.layers; layer++) {
      const { keys, values } = cache.past(layer);
      for (let head = 0; head < shape.heads; head++) {
        const start = (row * dims[1] + head) * dims[2] * dims[3];
        const end = start + cache.length(row) * dims[3];
        parts.push(...keys.subarray(start, end), ...values.subarray(start, end));
      }
    }
    const slots = cache.attentionMask(0, new Uint8Array(0)).subarray(row * dims[2], (row + 1) * dims[2]);
    const mask = Array.from(slots, Number);
    // A slot past the row's length is never attended to, whatever stale entry it holds.
    expect(mask.slice(cache.length(row)).every((valid) => valid === 0)).toBe(true);
    return JSON.stringify([cache.length(row), cache.tokens(row), parts, mask.slice(0, cache.length(row))]);
  });
}

describe('KvCache.reorder in place', () => {
  it('matches a plain copy of the rows through swaps, cycles, duplicates and shrinking', () => {
    let seed = 12345;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    const cache = new KvCache(shape);
    cache.addRows(5);
    step(
      cache,
      3,
      Uint8Array.from({ length: 15 }, (_, index) => (index % 7 === 0 ? 0 : 1)),
      0,
    );
    const fixed: number[][] = [
      [1, 0, 2, 3, 4],
      [1, 2, 3, 4, 0],
      [4, 4, 4, 0, 1],
      [0, 1, 2, 3, 3],
      [3, 2, 1, 0, 0],
    ];
    for (let round = 0; round < 60; round++) {
      const rows = cache.rows;
      const sources =
        fixed[round] ??
        Array.from({ length: rows > 2 && round % 9 === 0 ? rows - 1 : rows }, () => random(rows));
      const expected = sources.map((source) => snapshot(cache)[source]);
      cache.reorder(sources);
      expect(snapshot(cache), JSON.stringify(sources)).toEqual(expected);
      step(cache, 1, new Uint8Array(cache.rows).fill(1), 10_000 * (round + 1));
      if (cache.rows < 3) cache.addRows(2);
    }
  });

  it('keeps its arrays and the rows that stay, copying only the rows that move', () => {
    const cache = new KvCache(shape);
    cache.addRows(4);
    step(cache, 2, new Uint8Array(8).fill(1), 0);
    const before = snapshot(cache);
    const { keys } = cache.past(1);
    cache.reorder([0, 0, 2, 1]);
    expect(cache.past(1).keys.buffer).toBe(keys.buffer);
    expect(snapshot(cache)).toEqual([before[0], before[0], before[2], before[1]]);
  });

  it('reorders an fp16 cache as it does an fp32 one', () => {
    const half = new KvCache({ ...shape, type: 'float16' });
    half.addRows(3);
    half.reserve(2);
    for (let layer = 0; layer < shape.layers; layer++) {
      const entries = Uint16Array.from({ length: 3 * shape.heads * 2 * shape.headDim }, (_, index) => index);
      half.write(
        layer,
        entries,
        entries.map((value) => value + 1000),
        2,
      );
    }
    half.commit(2, new Uint8Array(6).fill(1));
    const before = snapshot(half);
    half.reorder([2, 0, 1]);
    expect(snapshot(half)).toEqual([before[2], before[0], before[1]]);
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

describe('KvCache.ensureRoom', () => {
  it('takes in prefilled rows without a relayout, the room made once', () => {
    const running = new KvCache(shape);
    running.addRows(1);
    step(running, 20, new Uint8Array(20).fill(1), 0);
    const runningRow = slot(running, 1, 0, 1, 19);
    running.ensureRoom(4, 21);
    const { keys } = running.past(0);
    for (const [rows, tag] of [
      [2, 3000],
      [1, 5000],
    ] as const) {
      const prefill = new KvCache(shape);
      prefill.addRows(rows);
      step(prefill, 3, new Uint8Array(rows * 3).fill(1), tag);
      running.append(prefill);
    }
    expect(running.rows).toBe(4);
    expect(running.past(0).keys.buffer).toBe(keys.buffer);
    expect(slot(running, 1, 0, 1, 19)).toEqual(runningRow);
    expect(slot(running, 1, 2, 1, 2)).toEqual([3000 + 1112, 3000 + 1112.1, 3000 + 1112.2].map(Math.fround));
    expect(slot(running, 0, 3, 0, 0)).toEqual([5000, 5000.1, 5000.2].map(Math.fround));
    // Slots the new rows have not filled are masked, whatever an earlier row left there.
    const mask = running.attentionMask(1, new Uint8Array(4).fill(1));
    const width = running.capacity + 1;
    expect([...mask.subarray(3 * width, 3 * width + 5)]).toEqual([1n, 1n, 1n, 0n, 0n]);
    step(running, 1, new Uint8Array(4).fill(1), 9000);
    expect([running.length(0), running.length(3)]).toEqual([21, 4]);
  });

  it('reuses rows a finished request left behind as empty rows', () => {
    const cache = new KvCache(shape);
    cache.addRows(2);
    step(cache, 5, new Uint8Array(10).fill(1), 0);
    cache.removeRows([1]);
    const { keys } = cache.past(0);
    expect(cache.addRows(1)).toBe(1);
    expect(cache.past(0).keys.buffer).toBe(keys.buffer);
    expect(cache.length(1)).toBe(0);
    const mask = cache.attentionMask(1, Uint8Array.from([1, 1]));
    expect([...mask.subarray(cache.capacity + 1, cache.capacity + 6)]).toEqual([0n, 0n, 0n, 0n, 0n]);
  });
});
