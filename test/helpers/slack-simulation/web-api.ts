import { type SimulatedFile, type SimulatedMessage, simulatedIds, type Workspace } from './workspace.js';

export interface ApiCall {
  readonly method: string;
  readonly args: Record<string, string>;
  readonly token: string | undefined;
  /** Epoch milliseconds when it arrived. */
  readonly at: number;
}

export type ApiAnswer = {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
};

export interface WebApiOptions {
  readonly baseUrl: () => string;
  readonly openConnection: () => string;
  /** chat.update of one message sooner than this after the last is answered 429, as Slack does. */
  readonly minUpdateIntervalMs: number;
  /**
   * Slack's per-workspace limit of chat.update (Tier 3): more than `max` calls within any
   * `windowMs` are answered 429 with Retry-After, and so is every call until that time.
   */
  readonly workspaceUpdates?: { readonly max: number; readonly windowMs: number };
}

type Handler = (args: Record<string, string>) => unknown;

/**
 * The Web API methods emu-bot calls, over the simulated workspace, with Slack's shapes: HTTP 200
 * with `{ok:false, error}` for errors, 429 with Retry-After for rate limits.
 */
export class WebApi {
  readonly calls: ApiCall[] = [];
  readonly rateLimited: ApiCall[] = [];
  /** Uploads announced by files.getUploadURLExternal, by file id, until their bytes arrive. */
  readonly pendingUploads = new Map<string, { name: string; bytes?: Uint8Array }>();
  /** Method name -> error code to answer with next (fault injection). */
  readonly failNext = new Map<string, string>();
  readonly #workspace: Workspace;
  readonly #options: WebApiOptions;
  readonly #lastUpdate = new Map<string, number>();
  /** When each accepted chat.update arrived, for the workspace limit. */
  readonly #updateTimes: number[] = [];
  #updatesLimitedUntil = 0;
  readonly #handlers: Record<string, Handler>;
  #uploadSequence = 0;

  constructor(workspace: Workspace, options: WebApiOptions) {
    this.#workspace = workspace;
    this.#options = options;
    this.#handlers = {
      'auth.test': () => ({
        user_id: simulatedIds.botUser,
        bot_id: simulatedIds.bot,
        team_id: simulatedIds.team,
        user: 'emu',
        team: 'Simulated',
        url: 'https://simulated.slack.com/',
      }),
      'chat.postMessage': (args) => this.#postMessage(args),
      'chat.update': (args) => this.#update(args),
      'chat.postEphemeral': () => ({ message_ts: this.#workspace.nextTs() }),
      'conversations.replies': (args) => this.#replies(args),
      'conversations.history': (args) => ({
        messages: this.#workspace.messages
          .filter((message) => message.channel === args['channel'] && message.thread_ts === undefined)
          .reverse()
          .slice(0, Number(args['limit'] ?? 100))
          .map((message) => this.messageJson(message)),
        has_more: false,
      }),
      'files.getUploadURLExternal': (args) => this.#uploadUrl(args),
      'files.completeUploadExternal': (args) => this.#completeUpload(args),
      'files.info': (args) => this.#fileInfo(args),
      'views.open': (args) => ({ view: { ...JSON.parse(args['view'] ?? '{}'), id: 'V0VIEW' } }),
    };
  }

  handle(method: string, args: Record<string, string>, token: string | undefined): ApiAnswer {
    const call = { method, args, token, at: Date.now() };
    this.calls.push(call);
    if (method === 'apps.connections.open') {
      if (token !== simulatedIds.appToken) return error('invalid_auth');
      return { status: 200, body: { ok: true, url: this.#options.openConnection() } };
    }
    if (token !== simulatedIds.botToken) return error('invalid_auth');
    const injected = this.failNext.get(method);
    if (injected !== undefined) {
      this.failNext.delete(method);
      return error(injected);
    }
    if (method === 'chat.update') {
      const retryAfter = this.#workspaceLimited(call.at) ?? (this.#tooSoon(args) ? 1 : undefined);
      if (retryAfter !== undefined) {
        this.rateLimited.push(call);
        return {
          status: 429,
          body: { ok: false, error: 'ratelimited' },
          headers: { 'retry-after': String(retryAfter) },
        };
      }
    }
    const handler = this.#handlers[method];
    if (handler === undefined) return error('unknown_method');
    try {
      return { status: 200, body: { ok: true, ...(handler(args) as object) } };
    } catch (failure) {
      return error(failure instanceof Error ? failure.message : String(failure));
    }
  }

  /** The calls of one method, oldest first. */
  callsTo(method: string): ApiCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  fileJson(file: SimulatedFile): Record<string, unknown> {
    const url = `${this.#options.baseUrl()}/files-pri/${simulatedIds.team}-${file.id}/${encodeURIComponent(file.name)}`;
    return {
      id: file.id,
      name: file.name,
      title: file.name,
      mimetype: file.mimetype,
      filetype: file.name.split('.').at(-1) ?? '',
      size: file.bytes.byteLength,
      user: file.user,
      url_private: url,
      url_private_download: `${url}?download=1`,
    };
  }

  messageJson(message: SimulatedMessage): Record<string, unknown> {
    return {
      type: 'message',
      ts: message.ts,
      text: message.text,
      ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
      ...(message.user === undefined ? {} : { user: message.user }),
      ...(message.bot_id === undefined
        ? {}
        : {
            bot_id: message.bot_id,
            user: message.bot_id === simulatedIds.bot ? simulatedIds.botUser : message.user,
          }),
      ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
      ...(message.metadata === undefined ? {} : { metadata: message.metadata }),
      ...(message.files === undefined
        ? {}
        : {
            files: message.files.map((id) => this.fileJson(this.#workspace.files.get(id) as SimulatedFile)),
          }),
    };
  }

  /** From now on, every chat.update is answered 429 for `seconds` (Slack's limit reached elsewhere). */
  limitUpdatesFor(seconds: number): void {
    this.#updatesLimitedUntil = Date.now() + seconds * 1000;
  }

  /** Seconds to wait when the workspace's chat.update budget is spent, else undefined (and counted). */
  #workspaceLimited(now: number): number | undefined {
    if (now < this.#updatesLimitedUntil) return Math.ceil((this.#updatesLimitedUntil - now) / 1000);
    const limit = this.#options.workspaceUpdates;
    if (limit === undefined) return undefined;
    while ((this.#updateTimes[0] ?? now) <= now - limit.windowMs) this.#updateTimes.shift();
    if (this.#updateTimes.length >= limit.max) {
      const seconds = Math.max(1, Math.ceil(limit.windowMs / 1000));
      this.#updatesLimitedUntil = now + seconds * 1000;
      return seconds;
    }
    this.#updateTimes.push(now);
    return undefined;
  }

  #tooSoon(args: Record<string, string>): boolean {
    const key = `${args['channel']}:${args['ts']}`;
    const now = Date.now();
    const last = this.#lastUpdate.get(key);
    if (last !== undefined && now - last < this.#options.minUpdateIntervalMs) return true;
    this.#lastUpdate.set(key, now);
    return false;
  }

  #postMessage(args: Record<string, string>) {
    const channel = required(args, 'channel');
    const message = this.#workspace.post({
      channel,
      text: args['text'] ?? '',
      bot_id: simulatedIds.bot,
      ...(args['thread_ts'] === undefined ? {} : { thread_ts: args['thread_ts'] }),
      ...(args['blocks'] === undefined ? {} : { blocks: JSON.parse(args['blocks']) }),
      ...(args['metadata'] === undefined ? {} : { metadata: JSON.parse(args['metadata']) }),
    });
    return { channel, ts: message.ts, message: this.messageJson(message) };
  }

  #update(args: Record<string, string>) {
    const channel = required(args, 'channel');
    const message = this.#workspace.find(channel, required(args, 'ts'));
    if (message === undefined) throw new Error('message_not_found');
    if (message.bot_id !== simulatedIds.bot) throw new Error('cant_update_message');
    message.text = args['text'] ?? message.text;
    if (args['blocks'] !== undefined) message.blocks = JSON.parse(args['blocks']);
    if (args['metadata'] !== undefined) message.metadata = JSON.parse(args['metadata']);
    message.edits += 1;
    return { channel, ts: message.ts, text: message.text };
  }

  #replies(args: Record<string, string>) {
    const channel = required(args, 'channel');
    const thread = this.#workspace.thread(channel, required(args, 'ts'));
    if (thread.length === 0) throw new Error('thread_not_found');
    const limit = Number(args['limit'] ?? 1000);
    return { messages: thread.slice(0, limit).map((message) => this.messageJson(message)), has_more: false };
  }

  #uploadUrl(args: Record<string, string>) {
    this.#uploadSequence += 1;
    const id = `FUP${String(this.#uploadSequence).padStart(5, '0')}`;
    this.pendingUploads.set(id, { name: required(args, 'filename') });
    return { upload_url: `${this.#options.baseUrl()}/upload/${id}`, file_id: id };
  }

  #completeUpload(args: Record<string, string>) {
    const files = JSON.parse(required(args, 'files')) as { id: string; title?: string }[];
    const stored = files.map(({ id }) => {
      const pending = this.pendingUploads.get(id);
      if (pending?.bytes === undefined) throw new Error('file_not_found');
      this.pendingUploads.delete(id);
      return this.#workspace.addFile(
        { name: pending.name, mimetype: 'image/png', bytes: pending.bytes, user: simulatedIds.botUser },
        id,
      );
    });
    const channel = args['channel_id'];
    if (channel !== undefined) {
      this.#workspace.post({
        channel,
        text: args['initial_comment'] ?? '',
        bot_id: simulatedIds.bot,
        files: stored.map((file) => file.id),
        ...(args['thread_ts'] === undefined ? {} : { thread_ts: args['thread_ts'] }),
      });
    }
    return { files: stored.map((file) => this.fileJson(file)) };
  }

  #fileInfo(args: Record<string, string>) {
    const file = this.#workspace.files.get(required(args, 'file'));
    if (file === undefined) throw new Error('file_not_found');
    return { file: this.fileJson(file) };
  }
}

function required(args: Record<string, string>, name: string): string {
  const value = args[name];
  if (value === undefined) throw new Error(`invalid_arguments: ${name}`);
  return value;
}

function error(code: string): ApiAnswer {
  return { status: 200, body: { ok: false, error: code } };
}
