import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { EditLimiter, type EditRate, slackEditRate } from './edit-limiter.js';

export interface Edit {
  readonly channel: string;
  readonly ts: string;
  readonly text: string;
  readonly blocks?: readonly unknown[];
  readonly metadata?: { readonly event_type: string; readonly event_payload: Record<string, string> };
}

interface MessageState {
  lastAt: number;
  inFlight: Promise<void> | undefined;
  /** The progress edit on its way to Slack (not one still waiting for a token). */
  sending: Promise<void> | undefined;
  pending: Edit | undefined;
  timer: NodeJS.Timeout | undefined;
  finished: boolean;
}

/**
 * Edits the bot's messages (chat.update) within Slack's rate limits: progress edits of one
 * message are at least `intervalMs` apart, and only the newest waiting one is sent; the final
 * edit waits for an edit in flight and the interval, and no progress edit follows it. Across
 * messages, every edit takes a token of the workspace's limiter (finals first), and a 429 from
 * Slack pauses them all for its Retry-After.
 */
export class MessageEditor {
  readonly #client: webApi.WebClient;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #limiter: EditLimiter;
  readonly #messages = new Map<string, MessageState>();
  readonly #onRateLimited = (seconds: number, request: { url?: string } | undefined) => {
    if (request?.url?.endsWith('chat.update') === true) this.#limiter.pause(seconds * 1000);
  };

  constructor(client: webApi.WebClient, intervalMs: number, logger: Logger, rate: EditRate = slackEditRate) {
    this.#client = client;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
    this.#limiter = new EditLimiter(rate);
    client.on(webApi.WebClientEvent.RATE_LIMITED, this.#onRateLimited);
  }

  /** Best effort: a lost progress edit is overtaken by the next one or the answer. */
  progress(edit: Edit): void {
    const state = this.#state(edit);
    if (state.finished) return;
    state.pending = edit;
    if (state.timer !== undefined || state.inFlight !== undefined) return;
    this.#schedule(edit, state);
  }

  /** The last edit of a message; rejects when Slack refuses it, so the delivery is tried again. */
  async final(edit: Edit): Promise<void> {
    const state = this.#state(edit);
    state.finished = true;
    state.pending = undefined;
    clearTimeout(state.timer);
    state.timer = undefined;
    await state.sending?.catch(() => {});
    const wait = state.lastAt + this.#intervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      await this.#limiter.acquire('final');
      await this.#send(edit);
    } finally {
      state.lastAt = Date.now();
      this.#messages.delete(key(edit));
    }
  }

  close(): void {
    this.#client.off(webApi.WebClientEvent.RATE_LIMITED, this.#onRateLimited);
    this.#limiter.close();
    for (const state of this.#messages.values()) {
      clearTimeout(state.timer);
      state.finished = true;
    }
    this.#messages.clear();
  }

  #state(edit: Edit): MessageState {
    let state = this.#messages.get(key(edit));
    if (state === undefined) {
      state = {
        lastAt: 0,
        inFlight: undefined,
        sending: undefined,
        pending: undefined,
        timer: undefined,
        finished: false,
      };
      this.#messages.set(key(edit), state);
    }
    return state;
  }

  #schedule(edit: Edit, state: MessageState): void {
    const wait = Math.max(0, state.lastAt + this.#intervalMs - Date.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.inFlight = this.#sendProgress(state)
        .catch((error: unknown) => this.#logger.debug({ err: error }, 'progress edit failed'))
        .finally(() => {
          state.lastAt = Date.now();
          state.inFlight = undefined;
          if (state.pending !== undefined && !state.finished) this.#schedule(edit, state);
        });
    }, wait);
    state.timer.unref();
  }

  /** Waits for a token, then sends the newest waiting edit (edits arriving meanwhile overtake it). */
  async #sendProgress(state: MessageState): Promise<void> {
    if (state.pending === undefined || state.finished) return;
    await this.#limiter.acquire('progress');
    const next = state.pending;
    state.pending = undefined;
    if (next === undefined || state.finished) {
      this.#limiter.release();
      return;
    }
    state.sending = this.#send(next);
    try {
      await state.sending;
    } finally {
      state.sending = undefined;
    }
  }

  async #send(edit: Edit): Promise<void> {
    await this.#client.chat.update({
      channel: edit.channel,
      ts: edit.ts,
      text: edit.text,
      ...(edit.blocks === undefined ? {} : { blocks: edit.blocks }),
      ...(edit.metadata === undefined ? {} : { metadata: edit.metadata }),
    } as webApi.ChatUpdateArguments);
  }
}

function key(edit: Edit): string {
  return `${edit.channel}:${edit.ts}`;
}
