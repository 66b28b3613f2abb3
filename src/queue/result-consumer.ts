import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueueKeys } from './keys.js';
import { resultConsumerGroup } from './keys.js';
import { decodeOutcome } from './outcome-codec.js';
import type { ReplySink } from './reply-sink.js';
import { claimDeliveryScript, settleDeliveryScript } from './scripts/delivery.js';

export interface ResultConsumerOptions {
  /** A blocking-capable connection the consumer owns. */
  readonly redis: Redis;
  readonly keys: QueueKeys;
  readonly sinks: readonly ReplySink[];
  readonly logger: Logger;
  /** Unique per process start, e.g. host:pid:random. */
  readonly consumerName: string;
  readonly resultTtlMs: number;
  /** How long one delivery may take before another bot process may try it. */
  readonly deliveryLeaseMs?: number;
  /** Entries left unacknowledged this long (their bot died) are taken over. */
  readonly claimIdleMs?: number;
  /** Called with each delivered job id, so status updates for it stop. */
  readonly onDelivered?: (jobId: string) => void;
}

type Entry = [Buffer, Buffer[]];

/**
 * Reads outcomes from the results streams of its sinks' platforms, in the bot processes'
 * consumer group, and hands each to its sink exactly once: an entry is acknowledged in the same
 * script that marks the reply delivered; a bot that dies mid-way leaves its entries pending,
 * and another (or its successor) claims them after `claimIdleMs`. A platform no running bot
 * serves keeps its results in its stream until one starts, or the result TTL passes.
 */
export class ResultConsumer {
  readonly #options: ResultConsumerOptions;
  readonly #streams: ReadonlyMap<string, ReplySink>;
  readonly #abort = new AbortController();
  readonly #leaseMs: number;
  readonly #claimIdleMs: number;
  #loop: Promise<void> | undefined;
  #delivering = false;
  #closing: Promise<void> | undefined;

  constructor(options: ResultConsumerOptions) {
    this.#options = options;
    this.#streams = new Map(options.sinks.map((sink) => [options.keys.results(sink.platform), sink]));
    this.#leaseMs = options.deliveryLeaseMs ?? 60_000;
    this.#claimIdleMs = options.claimIdleMs ?? 30_000;
  }

  async start(): Promise<void> {
    const { redis } = this.#options;
    for (const stream of this.#streams.keys()) {
      try {
        await redis.xgroup('CREATE', stream, resultConsumerGroup, '0', 'MKSTREAM');
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
      }
    }
    if (this.#streams.size > 0) this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const { redis, consumerName, logger } = this.#options;
    const streams = [...this.#streams.keys()];
    let nextClaim = 0;
    while (!this.#abort.signal.aborted) {
      try {
        if (Date.now() >= nextClaim) {
          nextClaim = Date.now() + Math.min(this.#claimIdleMs, 5_000);
          for (const stream of streams) {
            const claimed = (await redis.callBuffer(
              'XAUTOCLAIM',
              stream,
              resultConsumerGroup,
              consumerName,
              this.#claimIdleMs,
              '0-0',
              'COUNT',
              100,
            )) as [Buffer, Entry[]];
            await this.#handle(stream, claimed[1]);
          }
        }
        const read = (await redis.callBuffer(
          'XREADGROUP',
          'GROUP',
          resultConsumerGroup,
          consumerName,
          'COUNT',
          100,
          'BLOCK',
          Math.min(this.#claimIdleMs, 1_000),
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        )) as Array<[Buffer, Entry[]]> | null;
        for (const [stream, entries] of read ?? []) await this.#handle(String(stream), entries);
      } catch (error) {
        if (this.#abort.signal.aborted) return;
        logger.warn({ err: error }, 'reading results failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
  }

  async #handle(stream: string, entries: readonly Entry[]): Promise<void> {
    for (const [id, fields] of entries) {
      if (this.#abort.signal.aborted) return;
      // A deleted entry (already settled) comes back from XAUTOCLAIM with no fields.
      if (fields === null || fields.length === 0) continue;
      this.#delivering = true;
      try {
        await this.#deliver(stream, String(id), fields);
      } finally {
        this.#delivering = false;
      }
    }
  }

  async #deliver(stream: string, entryId: string, fields: Buffer[]): Promise<void> {
    const { redis, keys, consumerName, logger } = this.#options;
    const outcome = decodeOutcome(fields);
    const sink = this.#streams.get(stream) as ReplySink;
    const delivered = keys.delivered(outcome.jobId);
    const claim = await claimDeliveryScript.run(redis, [delivered], [consumerName, this.#leaseMs]);
    if (claim === 'busy') return;
    const settle = (mode: 'done' | 'release') =>
      settleDeliveryScript.run(
        redis,
        [delivered, stream],
        [mode, consumerName, resultConsumerGroup, entryId, this.#options.resultTtlMs],
      );
    if (claim === 'claimed') {
      try {
        await sink.deliver(outcome, AbortSignal.timeout(this.#leaseMs));
      } catch (error) {
        logger.warn(
          { err: error, jobId: outcome.jobId },
          'delivering a result failed; it will be tried again',
        );
        await settle('release');
        return;
      }
    }
    await settle('done');
    this.#options.onDelivered?.(outcome.jobId);
  }

  /**
   * Stops reading; an entry being delivered is finished and settled first, so its lease is
   * never left behind (a blocking read is cut short). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      if (!this.#delivering) this.#options.redis.disconnect();
      await this.#loop;
      this.#options.redis.disconnect();
    })();
    return this.#closing;
  }
}
