import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Intent, Platform } from './conversation.js';

/** What happened to a request. */
export type AuditOutcome = 'queued' | 'blocked' | 'refused' | 'failed';

export interface AuditEntry {
  readonly platform: Platform;
  readonly serverId?: string;
  readonly channelId: string;
  readonly userId: string;
  readonly intent: Intent;
  readonly outcome: AuditOutcome;
  /** The error code when the outcome is not `queued`. */
  readonly code?: string;
  /** Kept only when `includePrompts` is on. */
  readonly prompt?: string;
}

export interface AuditLogOptions {
  readonly directory: string;
  readonly retentionDays: number;
  readonly includePrompts: boolean;
  readonly now?: () => Date;
}

const filePattern = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/;
const dayMs = 86_400_000;

/**
 * Audit records for tracing abuse: one JSON line per request appended to `audit-YYYY-MM-DD.jsonl`
 * (UTC days) in one directory. Whenever a new day's file is started, files older than
 * `retentionDays` are deleted. Appends are serialised, so lines never interleave.
 */
export class AuditLog {
  readonly #options: AuditLogOptions;
  readonly #now: () => Date;
  #tail: Promise<void> = Promise.resolve();
  #currentDay: string | undefined;

  constructor(options: AuditLogOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  record(entry: AuditEntry): Promise<void> {
    const write = this.#tail.then(() => this.#append(entry));
    this.#tail = write.catch(() => undefined);
    return write;
  }

  /** Waits for pending appends. */
  close(): Promise<void> {
    return this.#tail;
  }

  async #append(entry: AuditEntry): Promise<void> {
    const now = this.#now();
    const day = now.toISOString().slice(0, 10);
    if (day !== this.#currentDay) {
      await mkdir(this.#options.directory, { recursive: true });
      await this.#prune(now);
      this.#currentDay = day;
    }
    const { prompt, ...rest } = entry;
    const line = {
      time: now.toISOString(),
      ...rest,
      ...(this.#options.includePrompts && prompt !== undefined ? { prompt } : {}),
    };
    await appendFile(join(this.#options.directory, `audit-${day}.jsonl`), `${JSON.stringify(line)}\n`, {
      mode: 0o600,
    });
  }

  async #prune(now: Date): Promise<void> {
    const oldestKept = new Date(now.getTime() - this.#options.retentionDays * dayMs)
      .toISOString()
      .slice(0, 10);
    for (const name of await readdir(this.#options.directory)) {
      const day = filePattern.exec(name)?.[1];
      if (day !== undefined && day < oldestKept)
        await rm(join(this.#options.directory, name), { force: true });
    }
  }
}
