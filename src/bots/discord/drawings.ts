import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What a drawing was made from, kept so that its buttons can draw it again after a restart. */
export interface DrawingRecord {
  readonly userId: string;
  readonly prompt: string;
  /** The person's images as Discord serves them (fetched again when the drawing is redone). */
  readonly imageUrls: readonly string[];
  readonly count: number;
  readonly seed: number;
  readonly steps?: number;
  readonly guidanceScale?: number;
  readonly jobIds: readonly string[];
}

/** One image's outcome: its PNG, or why there is none. */
export type DrawnImage = { readonly png: Uint8Array; readonly flagged: boolean } | { readonly error: string };

const kinds = { png: 1, flagged: 2, error: 0 } as const;

/**
 * Drawings in Redis: the record behind a drawing's buttons (for `discord.buttonTtlDays`), and the
 * images of a multi-image drawing gathered until the last arrives, so that they are posted
 * together by whichever bot process receives the last one.
 */
export class DrawingStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  /** `hashTag` keeps these keys in the queue's Redis Cluster slot. */
  constructor(redis: Redis, hashTag: string, ttlMs: number) {
    this.#redis = redis;
    this.#prefix = `${hashTag}:discord:drawing`;
    this.#ttlMs = ttlMs;
  }

  /** A new drawing id: short, to fit in a button's custom id next to the action. */
  static newId(): string {
    return randomBytes(9).toString('base64url');
  }

  async save(id: string, record: DrawingRecord): Promise<void> {
    await this.#redis.set(`${this.#prefix}:${id}`, JSON.stringify(record), 'PX', this.#ttlMs);
  }

  async get(id: string): Promise<DrawingRecord | undefined> {
    const text = await this.#redis.get(`${this.#prefix}:${id}`);
    return text === null ? undefined : (JSON.parse(text) as DrawingRecord);
  }

  /**
   * Adds image `index` of `count`; resolves to all of them, in order, for the call that completes
   * the set (a retried delivery of that image completes it again), and to undefined before.
   */
  async add(id: string, index: number, count: number, image: DrawnImage): Promise<DrawnImage[] | undefined> {
    const key = `${this.#prefix}:${id}:images`;
    // HSET and HLEN in one MULTI: each caller sees the count its own image made.
    const replies = await this.#redis
      .multi()
      .hset(key, String(index), encode(image))
      .hlen(key)
      .pexpire(key, this.#ttlMs)
      .exec();
    const length = Number(replies?.[1]?.[1] ?? 0);
    if (length < count) return undefined;
    const all = await this.#redis.hgetallBuffer(key);
    return Array.from({ length: count }, (_, place) => decode(all[String(place)]));
  }
}

function encode(image: DrawnImage): Buffer {
  if ('error' in image) return Buffer.concat([Buffer.from([kinds.error]), Buffer.from(image.error)]);
  return Buffer.concat([Buffer.from([image.flagged ? kinds.flagged : kinds.png]), Buffer.from(image.png)]);
}

function decode(value: Buffer | undefined): DrawnImage {
  if (value === undefined || value.length === 0) return { error: 'This image was lost; please try again.' };
  const kind = value[0];
  const body = value.subarray(1);
  if (kind === kinds.error) return { error: body.toString() };
  return { png: new Uint8Array(body), flagged: kind === kinds.flagged };
}
