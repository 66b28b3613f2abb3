import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimGateway } from './gateway.js';
import { applyBody, newMessage, readBody, wire } from './messages.js';
import type { SimInteraction, SimMessage, SimStore, SimUser } from './store.js';

export interface RestContext {
  readonly store: SimStore;
  readonly gateway: SimGateway;
  readonly token: string;
  readonly applicationId: string;
  readonly bot: () => SimUser;
  /** Every request as `METHOD /path`, for tests that check what the bot called. */
  readonly log: string[];
  /** Makes the next matching requests fail with 429 first (rate-limit tests). */
  rateLimitNext: number;
}

type Handler = (request: IncomingMessage, params: string[], url: URL) => Promise<Reply> | Reply;
type Reply = { status: number; body?: unknown };

const ok = (body: unknown): Reply => ({ status: 200, body });
const noContent: Reply = { status: 204 };
const notFound = (message: string, code = 10003): Reply => ({ status: 404, body: { message, code } });

/** The REST API the bot uses, under /api/v10. Bot routes need `Authorization: Bot <token>`. */
export function createRestHandler(context: RestContext) {
  const { store } = context;
  const routes: Array<[string, RegExp, Handler, boolean]> = [];
  const route = (method: string, pattern: RegExp, handler: Handler, auth = true) =>
    routes.push([method, pattern, handler, auth]);

  route('GET', /^\/gateway\/bot$/, () =>
    ok({
      url: context.gateway.url,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
    }),
  );
  route('GET', /^\/users\/@me$/, () => ok(context.bot()));
  route('GET', /^\/applications\/@me$/, () =>
    ok({ id: context.applicationId, name: 'Emu', flags: 0, bot_public: true, description: '' }),
  );
  route('PUT', /^\/applications\/(\d+)\/commands$/, async (request) => registerCommands(request, 'global'));
  route('PUT', /^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/, async (request, [, guildId]) =>
    registerCommands(request, guildId as string),
  );
  route('GET', /^\/channels\/(\d+)$/, (_request, [channelId]) => {
    const channel = store.channels.get(channelId as string);
    return channel === undefined ? notFound('Unknown Channel') : ok(channel);
  });
  route('GET', /^\/channels\/(\d+)\/messages$/, (_request, [channelId], url) => {
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const before = url.searchParams.get('before');
    const all = store
      .channelMessages(channelId as string)
      .filter((message) => (message.flags & 64) === 0)
      .filter((message) => before === null || BigInt(message.id) < BigInt(before));
    return ok(all.slice(-limit).reverse().map(wire));
  });
  route('GET', /^\/channels\/(\d+)\/messages\/(\d+)$/, (_request, [, messageId]) => {
    const message = store.messages.get(messageId as string);
    return message === undefined ? notFound('Unknown Message', 10008) : ok(wire(message));
  });
  route('POST', /^\/channels\/(\d+)\/messages$/, async (request, [channelId]) => {
    const body = await readBody(request);
    if (body.json.enforce_nonce === true && typeof body.json.nonce === 'string') {
      const same = store
        .channelMessages(channelId as string)
        .find((message) => message.nonce === body.json.nonce && message.author.id === context.bot().id);
      if (same !== undefined) return ok(wire(same));
    }
    const message = newMessage(store, channelId as string, context.bot(), body);
    context.gateway.dispatch('MESSAGE_CREATE', wire(message));
    return ok(wire(message));
  });
  route('PATCH', /^\/channels\/(\d+)\/messages\/(\d+)$/, async (request, [, messageId]) => {
    const message = store.messages.get(messageId as string);
    if (message === undefined) return notFound('Unknown Message', 10008);
    applyBody(store, message, await readBody(request));
    message.edited_timestamp = new Date().toISOString();
    return ok(wire(message));
  });
  route('POST', /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/, async (request, [channelId, messageId]) => {
    const body = await readBody(request);
    const parent = store.channels.get(channelId as string);
    const thread = store.addChannel({
      id: messageId as string,
      type: 11,
      name: String(body.json.name ?? 'thread'),
      ...(parent?.guild_id === undefined ? {} : { guild_id: parent.guild_id }),
      parent_id: channelId as string,
      nsfw: parent?.nsfw ?? false,
      owner_id: context.bot().id,
      createdAt: Date.now(),
      thread_metadata: {
        archived: false,
        locked: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
      },
    });
    context.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return { status: 201, body: thread };
  });
  route('POST', /^\/channels\/(\d+)\/typing$/, () => noContent);

  route(
    'POST',
    /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
    async (request, [id, token]) => {
      const interaction = store.interactions.get(id as string);
      if (interaction === undefined || interaction.token !== token)
        return notFound('Unknown interaction', 10062);
      if (interaction.callbacks.length > 0)
        return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
      const body = await readBody(request);
      const type = Number(body.json.type);
      interaction.callbacks.push(type);
      interaction.callbackAt = Date.now();
      const data = { json: body.json.data ?? {}, files: body.files };
      if (type === 9) interaction.modal = body.json.data;
      else if (type === 4 || type === 5) {
        const original = newMessage(store, interaction.channelId, context.bot(), data);
        if (type === 5) original.flags |= 128;
        interaction.original = original;
      } else if (type === 7 && interaction.original !== undefined)
        applyBody(store, interaction.original, data);
      return noContent;
    },
    false,
  );
  const webhook =
    (
      handler: (
        interaction: SimInteraction,
        request: IncomingMessage,
        rest: string[],
      ) => Promise<Reply> | Reply,
    ) =>
    (request: IncomingMessage, [applicationId, token, ...rest]: string[]): Promise<Reply> | Reply => {
      const interaction = [...store.interactions.values()].find((entry) => entry.token === token);
      if (applicationId !== context.applicationId || interaction === undefined || interaction.expired)
        return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
      return handler(interaction, request, rest);
    };
  route(
    'PATCH',
    /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
    webhook(async (interaction, request) => {
      if (interaction.original === undefined) return notFound('Unknown Message', 10008);
      applyBody(store, interaction.original, await readBody(request));
      interaction.original.flags &= ~128;
      return ok(wire(interaction.original));
    }),
    false,
  );
  route(
    'DELETE',
    /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
    webhook((interaction) => {
      const original = interaction.original;
      if (original === undefined || !store.messages.has(original.id))
        return notFound('Unknown Message', 10008);
      store.messages.delete(original.id);
      interaction.originalDeleted = true;
      return noContent;
    }),
    false,
  );
  route(
    'GET',
    /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
    webhook((interaction) =>
      interaction.original === undefined
        ? notFound('Unknown Message', 10008)
        : ok(wire(interaction.original)),
    ),
    false,
  );
  route(
    'POST',
    /^\/webhooks\/(\d+)\/([^/]+)$/,
    webhook(async (interaction, request) => {
      const message = newMessage(store, interaction.channelId, context.bot(), await readBody(request));
      interaction.followUps.push(message);
      return ok(wire(message));
    }),
    false,
  );
  route(
    'PATCH',
    /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(\d+)$/,
    webhook(async (_interaction, request, [messageId]) => {
      const message = store.messages.get(messageId as string);
      if (message === undefined) return notFound('Unknown Message', 10008);
      applyBody(store, message, await readBody(request));
      return ok(wire(message));
    }),
    false,
  );

  async function registerCommands(request: IncomingMessage, scope: string): Promise<Reply> {
    const commands = (await readBody(request)).json as unknown as Array<{ name: string }>;
    const registered = commands.map((command) => ({
      ...command,
      id: store.snowflake(),
      application_id: context.applicationId,
      version: store.snowflake(),
    }));
    store.commands.set(scope, registered);
    return ok(registered);
  }

  return async (request: IncomingMessage, response: ServerResponse, path: string, url: URL) => {
    context.log.push(`${request.method} ${path}`);
    for (const [method, pattern, handler, auth] of routes) {
      const match = pattern.exec(path);
      if (match === null || method !== request.method) continue;
      if (auth && request.headers.authorization !== `Bot ${context.token}`) {
        return send(response, { status: 401, body: { message: '401: Unauthorized', code: 0 } });
      }
      if (context.rateLimitNext > 0 && method !== 'GET') {
        context.rateLimitNext -= 1;
        return send(
          response,
          { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.05, global: false } },
          { 'retry-after': '0.05' },
        );
      }
      return send(response, await handler(request, match.slice(1), url));
    }
    return send(response, notFound(`no route ${request.method} ${path}`, 0));
  };
}

function send(response: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void {
  const json = reply.body === undefined ? {} : { 'content-type': 'application/json' };
  response.writeHead(reply.status, { ...json, ...headers });
  response.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
}

export type { SimMessage };
