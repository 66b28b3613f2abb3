import { randomBytes } from 'node:crypto';
import { type Config, loadConfig } from '../../src/config/index.js';
import type { JobOutcome, JobRequest, JobUpdate, ReplySink } from '../../src/queue/index.js';
import type { RedisServer } from './redis-server.js';

/**
 * Configuration for a queue test: the private Redis, a key prefix of its own (so tests never
 * see each other's jobs), quiet logs, and fast timings for stalled-job recovery.
 */
export function queueTestEnv(
  server: RedisServer,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    EMU_BOT_REDIS__URL: server.url,
    EMU_BOT_REDIS__KEY_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    EMU_BOT_LOG__LEVEL: 'silent',
    EMU_BOT_LOG__FORMAT: 'json',
    EMU_BOT_OPERATIONS__PORT: 'null',
    EMU_BOT_WORKER__LOCK_DURATION_MS: '1000',
    EMU_BOT_WORKER__STALLED_INTERVAL_MS: '500',
    EMU_BOT_WORKER__HEARTBEAT_MS: '500',
    EMU_BOT_WORKER__BATCH_WINDOW_MS: '2',
    EMU_BOT_QUEUE__STATUS_INTERVAL_MS: '100',
    ...overrides,
  };
}

export async function queueTestConfig(env: Record<string, string>): Promise<Config> {
  return (await loadConfig({ env, cwd: '/' })).config;
}

export function textRequest(userId: string, prompt: string, extra: Partial<JobRequest> = {}): JobRequest {
  return {
    kind: 'text',
    origin: { platform: 'test', userId, serverId: 'server-1', reference: prompt },
    request: {
      model: 'instruct',
      prompt,
      images: [],
      settings: { maxNewTokens: 16, numBeams: 1, lengthPenalty: 0, minLength: 1, repetitionPenalty: 1 },
    },
    ...extra,
  } as JobRequest;
}

/** A reply sink that records what it receives, as a bot adapter would post it. */
export class RecordingSink implements ReplySink {
  readonly platform = 'test';
  readonly outcomes: JobOutcome[] = [];
  readonly updates: JobUpdate[] = [];
  /** Makes the next deliveries fail, to test retries. */
  failNext = 0;

  async deliver(outcome: JobOutcome): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('the platform is down');
    }
    this.outcomes.push(outcome);
  }

  update(update: JobUpdate): void {
    this.updates.push(update);
  }

  outcome(jobId: string): JobOutcome | undefined {
    return this.outcomes.find((outcome) => outcome.jobId === jobId);
  }
}

/** Polls until `check` returns something other than undefined or false. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
