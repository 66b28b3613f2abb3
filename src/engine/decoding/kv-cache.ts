import { EmuBotError } from '../../core/index.js';

/** Element storage of a cache: fp32 as Float32Array, fp16 as raw halves in a Uint16Array. */
export type CacheArray = Float32Array | Uint16Array;
export type CacheType = 'float32' | 'float16';

export interface KvCacheShape {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly type: CacheType;
  /** The model's context length: the cache never grows past it. */
  readonly maxPositions: number;
}

/**
 * A fixed-capacity key/value cache that the decoder graph reads in place.
 *
 * The graph takes `past` as [rows, heads, capacity, headDim] (no slots while every row is empty)
 * and returns only the keys and values of the new tokens, which `append` writes into their slots:
 * a step copies what is new, never the whole cache (the concat-style alternative copies everything
 * twice per step; see DESIGN.md 5a).
 * Rows are kept contiguous at the front so the tensors for the live rows are plain subarrays;
 * beam search's reorders copy only the rows whose source changed, in place. The arrays may have
 * room for more rows (`ensureRoom`), which rows joining the batch take without a relayout.
 * Each row has its own slot validity, so left padding and rows of different lengths share a batch.
 * Capacity grows in powers of two, re-laying out the cache once per doubling.
 */
export class KvCache {
  readonly shape: KvCacheShape;
  #capacity = 0;
  #rows = 0;
  /** Rows the arrays have room for: rows past `#rows` can be taken in without a relayout. */
  #rowRoom = 0;
  #keys: CacheArray[];
  #values: CacheArray[];
  /** The previous layout's arrays, reused by the next relayout of the same size (beam steps). */
  #spare: CacheArray[] = [];
  /** Rows set aside during an in-place reorder. */
  #scratch: CacheArray;
  /** Per row and slot: 1 when the slot holds a real token the row may attend to. */
  #valid = new Uint8Array(0);
  /** Per row: the next free slot. */
  #lengths: number[] = [];
  /** Per row: how many real (not padding) tokens it holds, which is the next token's position. */
  #tokens: number[] = [];

  constructor(shape: KvCacheShape) {
    this.shape = shape;
    this.#scratch = this.#allocate(0);
    this.#keys = Array.from({ length: shape.layers }, () => this.#allocate(0));
    this.#values = Array.from({ length: shape.layers }, () => this.#allocate(0));
  }

  get rows(): number {
    return this.#rows;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Slots used by row `row` (padding included). */
  length(row: number): number {
    return this.#lengths[row] ?? 0;
  }

  /** Real tokens in row `row`: the position of its next token. */
  tokens(row: number): number {
    return this.#tokens[row] ?? 0;
  }

  /** The longest row, which decides how many slots the graph must read. */
  get longest(): number {
    return this.#lengths.reduce((longest, length) => Math.max(longest, length), 0);
  }

  /**
   * The past slots the graph reads: the whole capacity, or none while every row is empty. A
   * prefill into an empty cache then attends over its own tokens only, not also over a capacity
   * of masked slots (a fifth of a 200-token prefill's time on a CPU).
   */
  get slotsRead(): number {
    return this.longest === 0 ? 0 : this.#capacity;
  }

  /** Appends `count` empty rows and returns the index of the first. */
  addRows(count: number): number {
    const first = this.#rows;
    if (first + count <= this.#rowRoom) this.#takeRows(first + count);
    else this.#relayout(first + count, this.#capacity, (row) => (row < first ? row : -1));
    for (let row = first; row < first + count; row++) {
      this.#lengths[row] = 0;
      this.#tokens[row] = 0;
    }
    return first;
  }

  /** Rows become the old rows at `sources` (beam search's reordering; duplicates allowed). */
  reorder(sources: readonly number[]): void {
    const isIdentity = sources.length === this.#rows && sources.every((source, row) => source === row);
    if (isIdentity) return;
    for (const source of sources) {
      if (source < 0 || source >= this.#rows)
        throw new EmuBotError('INTERNAL', `reorder from missing row ${source}`);
    }
    const lengths = sources.map((source) => this.#lengths[source] ?? 0);
    const tokens = sources.map((source) => this.#tokens[source] ?? 0);
    if (sources.length <= this.#rows) this.#reorderInPlace(sources);
    else this.#relayout(sources.length, this.#capacity, (row) => sources[row] ?? -1);
    this.#lengths = lengths;
    this.#tokens = tokens;
  }

  /**
   * A reorder to no more rows than there are, in the arrays already there: a row whose source is
   * itself (a beam that survives in place) is not touched, and a moved row copies only its
   * source's used slots. Sources that a move would overwrite before they are read are set aside
   * first. Slots past a row's length may hold stale entries, masked as the relayout leaves them.
   */
  #reorderInPlace(sources: readonly number[]): void {
    const { heads, headDim } = this.shape;
    const capacity = this.#capacity;
    const stride = this.#rowStride();
    const moved: number[] = [];
    sources.forEach((source, row) => {
      if (source !== row) moved.push(row);
    });
    const overwritten = new Set(moved);
    const stashed = [...new Set(moved.map((row) => sources[row] as number))].filter((source) =>
      overwritten.has(source),
    );
    const stashIndex = new Map(stashed.map((source, index) => [source, index]));
    if (this.#scratch.length < stashed.length * stride)
      this.#scratch = this.#allocate(stashed.length * stride);
    const scratch = this.#scratch;
    const used = (row: number): number => (this.#lengths[row] ?? 0) * headDim;
    const copyRow = (
      from: CacheArray,
      fromRow: number,
      to: CacheArray,
      toRow: number,
      count: number,
    ): void => {
      for (let head = 0; head < heads; head++) {
        const start = fromRow * stride + head * capacity * headDim;
        const target = toRow * stride + head * capacity * headDim;
        if (from === to) to.copyWithin(target, start, start + count);
        else to.set(from.subarray(start, start + count), target);
      }
    };
    for (const array of [...this.#keys, ...this.#values]) {
      stashed.forEach((source, index) => {
        copyRow(array, source, scratch, index, used(source));
      });
      for (const row of moved) {
        const source = sources[row] as number;
        const index = stashIndex.get(source);
        if (index === undefined) copyRow(array, source, array, row, used(source));
        else copyRow(scratch, index, array, row, used(source));
      }
    }
    const valid = this.#valid;
    const savedValid = stashed.map((source) => valid.slice(source * capacity, (source + 1) * capacity));
    for (const row of moved) {
      const source = sources[row] as number;
      const index = stashIndex.get(source);
      if (index === undefined) valid.copyWithin(row * capacity, source * capacity, (source + 1) * capacity);
      else valid.set(savedValid[index] as Uint8Array, row * capacity);
    }
    this.#rows = sources.length;
  }

  /**
   * Moves `other`'s rows to the end of this cache (a prefilled request joining a running batch);
   * `other` is left empty.
   */
  append(other: KvCache): void {
    if (other.#rows === 0) return;
    const first = this.#rows;
    const capacity = Math.max(this.#capacity, other.#capacity);
    const rows = first + other.#rows;
    if (rows <= this.#rowRoom && capacity === this.#capacity) this.#takeRows(rows);
    else this.#relayout(rows, capacity, (row) => (row < first ? row : -1));
    const { heads, headDim } = this.shape;
    const copied = other.#capacity * headDim;
    for (let layer = 0; layer < this.shape.layers; layer++) {
      for (const [target, source] of [
        [this.#keys[layer], other.#keys[layer]],
        [this.#values[layer], other.#values[layer]],
      ] as const) {
        for (let row = 0; row < other.#rows; row++) {
          for (let head = 0; head < heads; head++) {
            const from = (row * heads + head) * copied;
            (target as CacheArray).set(
              (source as CacheArray).subarray(from, from + copied),
              ((first + row) * heads + head) * capacity * headDim,
            );
          }
        }
      }
    }
    for (let row = 0; row < other.#rows; row++) {
      this.#valid.set(
        other.#valid.subarray(row * other.#capacity, (row + 1) * other.#capacity),
        (first + row) * capacity,
      );
      this.#lengths[first + row] = other.#lengths[row] ?? 0;
      this.#tokens[first + row] = other.#tokens[row] ?? 0;
    }
    other.reorder([]);
  }

  /** Removes the given rows, keeping the others in order. */
  removeRows(rows: readonly number[]): void {
    const removed = new Set(rows);
    const kept: number[] = [];
    for (let row = 0; row < this.#rows; row++) if (!removed.has(row)) kept.push(row);
    this.reorder(kept);
  }

  /** Makes room for `incoming` more slots in every row. */
  reserve(incoming: number): void {
    const capacity = this.#capacityFor(this.longest + incoming);
    if (capacity === this.#capacity) return;
    this.#relayout(this.#rows, capacity, (row) => row, this.#rowRoom);
  }

  /**
   * Makes room for `rows` rows of `slots` slots in one relayout (or none), so that prefilled
   * requests joining the batch one group after another (`append`) copy only their own rows.
   */
  ensureRoom(rows: number, slots: number): void {
    const capacity = this.#capacityFor(slots);
    if (rows <= this.#rowRoom && capacity === this.#capacity) return;
    this.#relayout(this.#rows, capacity, (row) => row, Math.max(rows, this.#rowRoom));
  }

  /** The capacity for `needed` slots: the current one, or powers of two from 16. */
  #capacityFor(needed: number): number {
    if (needed > this.shape.maxPositions) {
      throw new EmuBotError(
        'PROMPT_TOO_LONG',
        `${needed} positions needed; the model has ${this.shape.maxPositions}`,
      );
    }
    if (needed <= this.#capacity) return this.#capacity;
    let capacity = Math.max(this.#capacity, 16);
    while (capacity < needed) capacity *= 2;
    return Math.min(capacity, this.shape.maxPositions);
  }

  /** Rows `#rows .. rows` start empty in the room the arrays already have. */
  #takeRows(rows: number): void {
    const valid = new Uint8Array(rows * this.#capacity);
    valid.set(this.#valid.subarray(0, this.#rows * this.#capacity));
    this.#valid = valid;
    this.#rows = rows;
  }

  /** The past tensors' data for layer `layer`: [rows, heads, slotsRead, headDim]. */
  past(layer: number): { keys: CacheArray; values: CacheArray; dims: [number, number, number, number] } {
    const slots = this.slotsRead;
    const size = this.#rows * this.#rowStride(slots);
    return {
      keys: (this.#keys[layer] as CacheArray).subarray(0, size),
      values: (this.#values[layer] as CacheArray).subarray(0, size),
      dims: [this.#rows, this.shape.heads, slots, this.shape.headDim],
    };
  }

  /**
   * The attention mask for a step adding `incoming` tokens per row: the past's `slotsRead` slots
   * (valid ones 1), then the new tokens (`incomingValid[row * incoming + i]`, 1 unless padding).
   */
  attentionMask(incoming: number, incomingValid: Uint8Array): BigInt64Array {
    const slots = this.slotsRead;
    const width = slots + incoming;
    const mask = new BigInt64Array(this.#rows * width);
    for (let row = 0; row < this.#rows; row++) {
      const valid = this.#valid.subarray(row * this.#capacity, row * this.#capacity + slots);
      for (let slot = 0; slot < slots; slot++) if (valid[slot] === 1) mask[row * width + slot] = 1n;
      for (let i = 0; i < incoming; i++) {
        if (incomingValid[row * incoming + i] === 1) mask[row * width + slots + i] = 1n;
      }
    }
    return mask;
  }

  /**
   * Writes one layer's new keys and values ([rows, heads, incoming, headDim]) into each row's next
   * slots. Call `commit` once every layer is written.
   */
  write(layer: number, keys: CacheArray, values: CacheArray, incoming: number): void {
    const { heads, headDim } = this.shape;
    const targetKeys = this.#keys[layer] as CacheArray;
    const targetValues = this.#values[layer] as CacheArray;
    const span = incoming * headDim;
    for (let row = 0; row < this.#rows; row++) {
      const start = this.#lengths[row] ?? 0;
      for (let head = 0; head < heads; head++) {
        const from = (row * heads + head) * span;
        const to = ((row * heads + head) * this.#capacity + start) * headDim;
        copySpan(keys, from, targetKeys, to, span);
        copySpan(values, from, targetValues, to, span);
      }
    }
  }

  /** Marks the `incoming` slots just written as used, valid where `incomingValid` says so. */
  commit(incoming: number, incomingValid: Uint8Array): void {
    for (let row = 0; row < this.#rows; row++) {
      const start = this.#lengths[row] ?? 0;
      let real = 0;
      for (let i = 0; i < incoming; i++) {
        const valid = incomingValid[row * incoming + i] ?? 0;
        this.#valid[row * this.#capacity + start + i] = valid;
        real += valid;
      }
      this.#lengths[row] = start + incoming;
      this.#tokens[row] = (this.#tokens[row] ?? 0) + real;
    }
  }

  #rowStride(capacity = this.#capacity): number {
    return this.shape.heads * capacity * this.shape.headDim;
  }

  #allocate(elements: number): CacheArray {
    return this.shape.type === 'float32' ? new Float32Array(elements) : new Uint16Array(elements);
  }

  /**
   * Rebuilds storage with `rows` rows of `capacity` slots, and room for `room` rows; row r takes
   * old row `sourceOf(r)` (-1: empty).
   */
  #relayout(rows: number, capacity: number, sourceOf: (row: number) => number, room = rows): void {
    const { heads, headDim } = this.shape;
    const oldCapacity = this.#capacity;
    const copied = Math.min(oldCapacity, capacity) * headDim;
    const elements = Math.max(rows, room) * this.#rowStride(capacity);
    const spare = this.#spare.filter((array) => array.length === elements);
    const relayoutArray = (old: CacheArray): CacheArray => {
      const next = spare.pop() ?? this.#allocate(elements);
      for (let row = 0; row < rows; row++) {
        const source = sourceOf(row);
        if (source < 0) continue;
        for (let head = 0; head < heads; head++) {
          const from = (source * heads + head) * oldCapacity * headDim;
          next.set(old.subarray(from, from + copied), (row * heads + head) * capacity * headDim);
        }
      }
      return next;
    };
    const keys = this.#keys.map(relayoutArray);
    const values = this.#values.map(relayoutArray);
    this.#spare = [...this.#keys, ...this.#values];
    this.#keys = keys;
    this.#values = values;
    const valid = new Uint8Array(rows * capacity);
    for (let row = 0; row < rows; row++) {
      const source = sourceOf(row);
      if (source >= 0)
        valid.set(
          this.#valid.subarray(source * oldCapacity, source * oldCapacity + Math.min(oldCapacity, capacity)),
          row * capacity,
        );
    }
    this.#valid = valid;
    this.#capacity = capacity;
    this.#rows = rows;
    this.#rowRoom = Math.max(rows, room);
  }
}

/**
 * `target.set(source.subarray(from, from + count), to)` without the view: a decode step writes one
 * short span per row, head and layer, and a view object for each made garbage collection a
 * noticeable share of a batched step.
 */
function copySpan(source: CacheArray, from: number, target: CacheArray, to: number, count: number): void {
  if (count > 256) {
    target.set(source.subarray(from, from + count), to);
    return;
  }
  for (let index = 0; index < count; index++) target[to + index] = source[from + index] as number;
}
