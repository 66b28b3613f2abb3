import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** What the buttons of a drawn image need to draw again, kept in Redis so they outlive restarts. */
export interface DrawingRecord {
  readonly prompt: string;
  readonly steps: number | null;
  readonly guidance: number | null;
  readonly channel: string;
  readonly threadTs: string;
  /** The uploaded image, for variations; set once it is posted. */
  readonly fileId?: string;
  /** A variation is drawn from this uploaded image instead of the prompt. */
  readonly sourceFileId?: string;
}

const drawingSchema = z.strictObject({
  prompt: z.string(),
  steps: z.number().int().positive().nullable(),
  guidance: z.number().nullable(),
  channel: z.string(),
  threadTs: z.string(),
  fileId: z.string().optional(),
  sourceFileId: z.string().optional(),
});

/** A person's job as `/emu queue` lists it. */
export interface PersonJob {
  readonly jobId: string;
  readonly what: string;
  readonly channel: string;
  readonly at: number;
}

/** How long a retried event or replayed request is remembered: Slack retries within an hour. */
const eventMemorySeconds = 3600;
/** Bolt rejects signed requests older than 5 minutes; remember signatures a little longer. */
const signatureMemorySeconds = 6 * 60;
const threadMemorySeconds = 30 * 86_400;

/**
 * The Slack adapter's state in Redis, shared by every bot process: events and signed requests
 * already seen (atomic SET NX, so a retry or replay is refused by whichever process sees it
 * second), threads the bot takes part in, drawings behind buttons, people's open jobs, and which
 * parts of an answer were already posted (a retried delivery posts only the rest).
 */
export class SlackStore {
  readonly #redis: Redis;
  readonly #base: string;
  readonly #drawingSeconds: number;
  readonly #jobSeconds: number;

  constructor(redis: Redis, keyPrefix: string, options: { buttonTtlDays: number; jobTtlMs: number }) {
    this.#redis = redis;
    this.#base = `{${keyPrefix}}:slack`;
    this.#drawingSeconds = options.buttonTtlDays * 86_400;
    this.#jobSeconds = Math.ceil(options.jobTtlMs / 1000);
  }

  /** True the first time an event id is seen across all bot processes. */
  async firstDelivery(eventId: string): Promise<boolean> {
    return this.#claim(`event:${eventId}`, eventMemorySeconds);
  }

  /** True the first time a request signature is seen: a replay inside Bolt's window is refused. */
  async firstSignature(signature: string): Promise<boolean> {
    return this.#claim(`signature:${signature}`, signatureMemorySeconds);
  }

  async joinThread(channel: string, threadTs: string): Promise<void> {
    await this.#redis.set(`${this.#base}:thread:${channel}:${threadTs}`, '1', 'EX', threadMemorySeconds);
  }

  async inThread(channel: string, threadTs: string): Promise<boolean> {
    return (await this.#redis.exists(`${this.#base}:thread:${channel}:${threadTs}`)) === 1;
  }

  async saveDrawing(record: DrawingRecord): Promise<string> {
    const id = randomUUID();
    await this.#redis.set(`${this.#base}:drawing:${id}`, JSON.stringify(record), 'EX', this.#drawingSeconds);
    return id;
  }

  async updateDrawing(id: string, record: DrawingRecord): Promise<void> {
    await this.#redis.set(`${this.#base}:drawing:${id}`, JSON.stringify(record), 'EX', this.#drawingSeconds);
  }

  async drawing(id: string): Promise<DrawingRecord | undefined> {
    const text = await this.#redis.get(`${this.#base}:drawing:${id}`);
    if (text === null) return undefined;
    const parsed = drawingSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as DrawingRecord) : undefined;
  }

  async addPersonJob(userId: string, job: PersonJob): Promise<void> {
    const key = `${this.#base}:user:${userId}:jobs`;
    await this.#redis.multi().hset(key, job.jobId, JSON.stringify(job)).expire(key, this.#jobSeconds).exec();
  }

  async removePersonJob(userId: string, jobId: string): Promise<void> {
    await this.#redis.hdel(`${this.#base}:user:${userId}:jobs`, jobId);
  }

  async personJobs(userId: string): Promise<PersonJob[]> {
    const entries = await this.#redis.hvals(`${this.#base}:user:${userId}:jobs`);
    return entries.map((entry) => JSON.parse(entry) as PersonJob).sort((a, b) => a.at - b.at);
  }

  /** How many parts of a job's answer are already posted. */
  async postedParts(jobId: string): Promise<number> {
    return Number((await this.#redis.get(`${this.#base}:posted:${jobId}`)) ?? 0);
  }

  async setPostedParts(jobId: string, parts: number): Promise<void> {
    await this.#redis.set(`${this.#base}:posted:${jobId}`, String(parts), 'EX', eventMemorySeconds);
  }

  async #claim(key: string, seconds: number): Promise<boolean> {
    return (await this.#redis.set(`${this.#base}:${key}`, '1', 'EX', seconds, 'NX')) === 'OK';
  }
}
