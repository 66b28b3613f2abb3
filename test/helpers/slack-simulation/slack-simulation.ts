import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstPartBytes } from './multipart.js';
import {
  blockAction,
  eventCallback,
  messageEvent,
  messageShortcut,
  slashCommand,
  viewSubmission,
} from './payloads.js';
import { type Ack, SocketModeHub } from './socket-mode.js';
import { WebApi } from './web-api.js';
import { type SimulatedMessage, simulatedIds, Workspace } from './workspace.js';

export interface PersonMessage {
  readonly user: string;
  readonly channel: string;
  readonly text: string;
  readonly threadTs?: string;
  readonly files?: readonly {
    readonly name: string;
    readonly mimetype: string;
    readonly bytes: Uint8Array;
  }[];
  /** Sends it as a retry of an earlier delivery (Slack's retry_attempt). */
  readonly eventId?: string;
}

export interface SimulationOptions {
  /** Edits of one message closer than this are answered 429 (0, the default, turns it off). */
  readonly minUpdateIntervalMs?: number;
  /** The workspace's chat.update limit (see `WebApiOptions`); none by default. */
  readonly workspaceUpdates?: { readonly max: number; readonly windowMs: number };
}

export interface Sent {
  readonly message: SimulatedMessage;
  /** The acks of the envelopes sent for it (an app_mention, and the message event Slack sends too). */
  readonly acks: Promise<Ack[]>;
  readonly eventIds: readonly string[];
}

/**
 * Slack on loopback for the real Bolt: the Web API (through `slackApiUrl`), Socket Mode, private
 * file downloads (bot token required, as Slack does), external uploads and response URLs.
 * Start it before `new App()` is initialised: Bolt calls auth.test first.
 */
export class SlackSimulation {
  readonly workspace = new Workspace();
  readonly socket = new SocketModeHub();
  readonly api: WebApi;
  readonly downloads: { readonly path: string; readonly authorized: boolean }[] = [];
  readonly responses: unknown[] = [];
  readonly #server: Server;
  #port = 0;

  private constructor(options: SimulationOptions) {
    this.api = new WebApi(this.workspace, {
      baseUrl: () => this.baseUrl,
      openConnection: () => this.socket.connectionUrl(this.#port),
      minUpdateIntervalMs: options.minUpdateIntervalMs ?? 0,
      ...(options.workspaceUpdates === undefined ? {} : { workspaceUpdates: options.workspaceUpdates }),
    });
    this.#server = createServer((request, response) => void this.#route(request, response));
    this.#server.on('upgrade', (request, socket, head) => {
      if (request.url?.startsWith('/link/') === true) this.socket.upgrade(request, socket, head);
      else socket.destroy();
    });
  }

  static async start(options: SimulationOptions = {}): Promise<SlackSimulation> {
    const simulation = new SlackSimulation(options);
    await new Promise<void>((resolve) => simulation.#server.listen(0, '127.0.0.1', resolve));
    simulation.#port = (simulation.#server.address() as AddressInfo).port;
    return simulation;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A person posts a message mentioning the bot: Slack sends app_mention and message events. */
  mention(message: PersonMessage): Sent {
    return this.#personPosts({ ...message, text: `<@${simulatedIds.botUser}> ${message.text}` }, [
      'app_mention',
      'message',
    ]);
  }

  /** A person posts a message without mentioning the bot. */
  say(message: PersonMessage): Sent {
    return this.#personPosts(message, ['message']);
  }

  /**
   * Another app's bot posts a message mentioning this bot: Slack sends app_mention (with the
   * poster's bot_id) and a message event of subtype bot_message.
   */
  otherBotMentions(message: {
    readonly botId: string;
    readonly channel: string;
    readonly text: string;
    readonly threadTs?: string;
  }): Sent {
    return this.#personPosts(
      {
        user: `U${message.botId}`,
        channel: message.channel,
        text: `<@${simulatedIds.botUser}> ${message.text}`,
        ...(message.threadTs === undefined ? {} : { threadTs: message.threadTs }),
      },
      ['app_mention', 'message'],
      message.botId,
    );
  }

  /** Sends an event envelope again as Slack's retry, with the same event id. */
  retryEvent(sent: Sent, attempt = 1): Promise<Ack> {
    const files = (sent.message.files ?? []).map((id) => this.api.fileJson(this.#file(id)));
    const event = messageEvent(sent.message, 'app_mention', files);
    return this.socket.send('events_api', eventCallback(event, sent.eventIds[0]), attempt);
  }

  command(command: string, text: string, user: string, channel: string): Promise<Ack> {
    return this.socket.send(
      'slash_commands',
      slashCommand(command, text, user, channel, this.#responseUrl()),
    );
  }

  /** A person clicks a button of a bot message. */
  click(message: SimulatedMessage, actionId: string, user: string): Promise<Ack> {
    const element = findButton(message, actionId);
    const json = this.api.messageJson(message);
    const payload = blockAction(json, message.channel, element, user, this.#responseUrl());
    return this.socket.send('interactive', payload);
  }

  shortcut(callbackId: string, message: SimulatedMessage, user: string): Promise<Ack> {
    const json = this.api.messageJson(message);
    return this.socket.send(
      'interactive',
      messageShortcut(callbackId, json, message.channel, user, this.#responseUrl()),
    );
  }

  /** Submits the newest view opened with views.open, with the given input values. */
  submitView(
    values: Record<string, Record<string, { type: string; value: string }>>,
    user: string,
  ): Promise<Ack> {
    const opened = this.api.callsTo('views.open').at(-1);
    if (opened === undefined) throw new Error('no view was opened');
    const view = JSON.parse(opened.args['view'] ?? '{}') as Record<string, unknown>;
    return this.socket.send('interactive', viewSubmission(view, values, user));
  }

  async stop(): Promise<void> {
    await this.socket.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #personPosts(message: PersonMessage, types: readonly ('app_mention' | 'message')[], botId?: string): Sent {
    const files = (message.files ?? []).map((file) =>
      this.workspace.addFile({ ...file, user: message.user }),
    );
    const stored = this.workspace.post({
      channel: message.channel,
      user: message.user,
      text: message.text,
      ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
      ...(files.length === 0 ? {} : { files: files.map((file) => file.id) }),
      ...(botId === undefined ? {} : { bot_id: botId }),
    });
    const fileJson = files.map((file) => this.api.fileJson(file));
    const eventIds = types.map((_, index) =>
      index === 0 ? (message.eventId ?? `Ev${randomUUID()}`) : `Ev${randomUUID()}`,
    );
    const acks = Promise.all(
      types.map((type, index) =>
        this.socket.send(
          'events_api',
          eventCallback(
            botId === undefined
              ? messageEvent(stored, type, fileJson)
              : {
                  ...messageEvent(stored, type, fileJson),
                  bot_id: botId,
                  ...(type === 'message' ? { subtype: 'bot_message' } : {}),
                },
            eventIds[index],
          ),
        ),
      ),
    );
    return { message: stored, acks, eventIds };
  }

  #file(id: string) {
    const file = this.workspace.files.get(id);
    if (file === undefined) throw new Error(`no file ${id}`);
    return file;
  }

  #responseUrl(): string {
    return `${this.baseUrl}/response/${randomUUID()}`;
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', this.baseUrl);
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (request.method === 'POST' && url.pathname.startsWith('/api/')) {
      const answer = this.api.handle(
        url.pathname.slice(5),
        parseArgs(body, request.headers['content-type']),
        token,
      );
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.body));
      return;
    }
    const download = /^\/files-pri\/[^/]+-([^/]+)\//.exec(url.pathname);
    if (request.method === 'GET' && download?.[1] !== undefined) {
      const authorized = token === simulatedIds.botToken;
      this.downloads.push({ path: url.pathname, authorized });
      const file = this.workspace.files.get(download[1]);
      // Slack answers a private file without the token with its sign-in page, not the file.
      if (!authorized || file === undefined) {
        response.writeHead(authorized ? 404 : 200, { 'content-type': 'text/html' });
        response.end('<html>sign in</html>');
        return;
      }
      response.writeHead(200, { 'content-type': file.mimetype, 'content-length': file.bytes.byteLength });
      response.end(file.bytes);
      return;
    }
    const upload = /^\/upload\/(.+)$/.exec(url.pathname);
    const pending = upload?.[1] === undefined ? undefined : this.api.pendingUploads.get(upload[1]);
    if (request.method === 'POST' && pending !== undefined) {
      pending.bytes = firstPartBytes(body, request.headers['content-type'] ?? '');
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`OK - ${pending.bytes.byteLength}`);
      return;
    }
    if (request.method === 'POST' && url.pathname.startsWith('/response/')) {
      this.responses.push(JSON.parse(body.toString() || '{}'));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
      return;
    }
    response.writeHead(404).end();
  }
}

function findButton(message: SimulatedMessage, actionId: string): { action_id: string; value: string } {
  for (const block of (message.blocks ?? []) as { elements?: { action_id?: string; value?: string }[] }[]) {
    const element = block.elements?.find((candidate) => candidate.action_id === actionId);
    if (element !== undefined) return { action_id: actionId, value: element.value ?? '' };
  }
  throw new Error(`message ${message.ts} has no button ${actionId}`);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseArgs(body: Buffer, contentType: string | undefined): Record<string, string> {
  const text = body.toString();
  if (contentType?.startsWith('application/json') === true) {
    const parsed = JSON.parse(text || '{}') as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(parsed).map(([key, value]) => [
        key,
        typeof value === 'string' ? value : JSON.stringify(value),
      ]),
    );
  }
  return Object.fromEntries(new URLSearchParams(text));
}
