import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimGateway } from './gateway.js';
import { createRestHandler, type RestContext } from './rest.js';
import {
  type SimAttachment,
  type SimChannel,
  type SimGuild,
  type SimInteraction,
  type SimMessage,
  SimStore,
  type SimUser,
} from './store.js';

export interface CommandOption {
  readonly name: string;
  /** 3 string, 4 integer, 10 number, 11 attachment. */
  readonly type: number;
  readonly value: string | number;
}

/**
 * Discord on loopback for the real discord.js: a gateway (ws) and the REST API (http) on one
 * port, a CDN for attachments, one guild with a text channel, and a person to talk as. Tests
 * post messages and run commands as people; the bot's calls land in `store`.
 */
export class DiscordSimulation {
  readonly store = new SimStore();
  readonly token = 'MTA.simulated.token';
  readonly applicationId: string;
  readonly bot: SimUser;
  readonly person: SimUser;
  readonly guild: SimGuild;
  readonly channel: SimChannel;
  readonly gateway: SimGateway;
  readonly rest: RestContext;
  readonly #server: Server;
  #origin = '';

  private constructor() {
    this.bot = this.store.addUser('Emu', true);
    this.applicationId = this.bot.id;
    this.person = this.store.addUser('ada');
    this.guild = this.store.addGuild('Test server', this.person.id);
    this.channel = this.store.addChannel({ type: 0, name: 'general', guild_id: this.guild.id, nsfw: true });
    const bot = () => ({ ...this.bot, bot: true });
    this.gateway = new SimGateway({
      store: this.store,
      token: this.token,
      botUser: bot,
      applicationId: this.applicationId,
    });
    this.rest = {
      store: this.store,
      gateway: this.gateway,
      token: this.token,
      applicationId: this.applicationId,
      bot,
      log: [],
      rateLimitNext: 0,
    };
    const handleRest = createRestHandler(this.rest);
    this.#server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', this.#origin);
      const path = decodeURIComponent(url.pathname);
      if (path.startsWith('/api/v10/')) {
        handleRest(request, response, path.slice('/api/v10'.length), url).catch((error: unknown) => {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ message: String(error), code: 0 }));
        });
      } else if (path.startsWith('/cdn/')) {
        const file = this.store.files.get(url.pathname.slice('/cdn'.length));
        response.writeHead(file === undefined ? 404 : 200, {
          'content-type': file?.contentType ?? 'text/plain',
        });
        response.end(file === undefined ? 'not found' : Buffer.from(file.bytes));
      } else {
        response.writeHead(404).end();
      }
    });
    this.#server.on('upgrade', (request, socket, head) => this.gateway.upgrade(request, socket, head));
  }

  static async start(): Promise<DiscordSimulation> {
    const simulation = new DiscordSimulation();
    await new Promise<void>((resolve) => simulation.#server.listen(0, '127.0.0.1', resolve));
    const { port } = simulation.#server.address() as AddressInfo;
    simulation.#origin = `http://127.0.0.1:${port}`;
    simulation.store.cdnUrl = `${simulation.#origin}/cdn`;
    simulation.gateway.url = `ws://127.0.0.1:${port}/gateway`;
    return simulation;
  }

  get apiUrl(): string {
    return `${this.#origin}/api`;
  }

  get cdnUrl(): string {
    return `${this.#origin}/cdn`;
  }

  /** A file a person uploads to `channelId`. */
  upload(
    filename: string,
    bytes: Uint8Array,
    contentType: string,
    channelId = this.channel.id,
  ): SimAttachment {
    return this.store.attach(filename, bytes, contentType, channelId);
  }

  /** The direct-message channel between the bot and `user` (made on first use). */
  directChannel(user: SimUser = this.person): SimChannel {
    const existing = [...this.store.channels.values()].find(
      (channel) => channel.type === 1 && channel.recipients?.[0]?.id === user.id,
    );
    return existing ?? this.store.addChannel({ type: 1, name: '', nsfw: false, recipients: [user] });
  }

  /**
   * A person opens a forum post: a thread (owned by them) in a forum channel, whose first message
   * has the thread's id, as on Discord. The forum channel is made on first use.
   */
  forumPost(options: { title: string; content: string; mention?: boolean; attachments?: SimAttachment[] }): {
    thread: SimChannel;
    starter: SimMessage;
  } {
    let forum = [...this.store.channels.values()].find((channel) => channel.type === 15);
    if (forum === undefined) {
      forum = this.store.addChannel({ type: 15, name: 'questions', guild_id: this.guild.id, nsfw: false });
      this.gateway.dispatch('CHANNEL_CREATE', forum);
    }
    const thread = this.store.addChannel({
      type: 11,
      name: options.title,
      guild_id: this.guild.id,
      parent_id: forum.id,
      nsfw: false,
      owner_id: this.person.id,
      thread_metadata: {
        archived: false,
        locked: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
      },
    });
    this.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    const { title: _title, ...message } = options;
    return { thread, starter: this.post({ ...message, channelId: thread.id, id: thread.id }) };
  }

  /** A person posts a message; `mention` puts `<@bot>` in front, as Discord's client does. */
  post(options: {
    content: string;
    channelId?: string;
    author?: SimUser;
    mention?: boolean;
    attachments?: SimAttachment[];
    replyTo?: SimMessage;
    roles?: string[];
    /** The message's id (a forum post's first message shares its thread's). */
    id?: string;
  }): SimMessage {
    const channelId = options.channelId ?? this.channel.id;
    const mention = options.mention ?? false;
    const message = this.store.addMessage({
      ...(options.id === undefined ? {} : { id: options.id }),
      channel_id: channelId,
      author: options.author ?? this.person,
      content: mention ? `<@${this.bot.id}> ${options.content}` : options.content,
      attachments: options.attachments ?? [],
      mentions: mention ? [this.bot] : [],
      ...(options.replyTo === undefined
        ? {}
        : { message_reference: { message_id: options.replyTo.id, channel_id: channelId }, type: 19 }),
    });
    const channel = this.store.channels.get(channelId);
    this.gateway.dispatch('MESSAGE_CREATE', {
      ...SimStore.wire(message),
      // As Discord sends it: discord.js needs it to make a direct-message channel it has not seen.
      ...(channel === undefined ? {} : { channel_type: channel.type }),
      ...(channel?.guild_id === undefined
        ? {}
        : { member: this.#member(options.author ?? this.person, options.roles) }),
      ...(options.replyTo === undefined ? {} : { referenced_message: SimStore.wire(options.replyTo) }),
    });
    return message;
  }

  /** A person runs a slash command. */
  command(
    name: string,
    options: CommandOption[] = [],
    extra: { channelId?: string; user?: SimUser; attachments?: SimAttachment[] } = {},
  ): SimInteraction {
    const attachments = extra.attachments ?? [];
    return this.#interact(2, extra, {
      id: this.store.snowflake(),
      name,
      type: 1,
      options,
      ...(attachments.length === 0
        ? {}
        : { resolved: { attachments: Object.fromEntries(attachments.map((a) => [a.id, a])) } }),
    });
  }

  /** A person runs the message context-menu command `name` on `target`. */
  contextMenu(name: string, target: SimMessage, extra: { user?: SimUser } = {}): SimInteraction {
    return this.#interact(
      2,
      { channelId: target.channel_id, ...extra },
      {
        id: this.store.snowflake(),
        name,
        type: 3,
        target_id: target.id,
        resolved: { messages: { [target.id]: SimStore.wire(target) } },
      },
    );
  }

  /** A person clicks the button `customId` on `message`. */
  click(message: SimMessage, customId: string, extra: { user?: SimUser } = {}): SimInteraction {
    return this.#interact(
      3,
      { channelId: message.channel_id, ...extra },
      { custom_id: customId, component_type: 2 },
      message,
    );
  }

  /** A person submits a modal with text fields. */
  submitModal(
    customId: string,
    fields: Record<string, string>,
    extra: { channelId?: string; user?: SimUser; message?: SimMessage } = {},
  ): SimInteraction {
    return this.#interact(
      5,
      extra,
      {
        custom_id: customId,
        components: Object.entries(fields).map(([id, value]) => ({
          type: 1,
          components: [{ type: 4, custom_id: id, value }],
        })),
      },
      extra.message,
    );
  }

  /** Every custom id of the buttons on a message. */
  static buttons(message: SimMessage): string[] {
    return (message.components as Array<{ components: Array<{ custom_id?: string }> }>).flatMap((row) =>
      row.components.flatMap((component) => (component.custom_id === undefined ? [] : [component.custom_id])),
    );
  }

  /** Messages the bot posted in a channel, oldest first, ephemeral ones left out. */
  botMessages(channelId = this.channel.id): SimMessage[] {
    return this.store
      .channelMessages(channelId)
      .filter((message) => message.author.id === this.bot.id && (message.flags & 64) === 0);
  }

  async close(): Promise<void> {
    this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #member(user: SimUser, roles: string[] = []): Record<string, unknown> {
    return {
      user,
      roles,
      joined_at: new Date().toISOString(),
      deaf: false,
      mute: false,
      permissions: '2248473465835073',
    };
  }

  #interact(
    type: number,
    where: { channelId?: string; user?: SimUser },
    data: Record<string, unknown>,
    message?: SimMessage,
  ): SimInteraction {
    const channelId = where.channelId ?? this.channel.id;
    const channel = this.store.channels.get(channelId) as SimChannel;
    const user = where.user ?? this.person;
    const interaction: SimInteraction = {
      id: this.store.snowflake(),
      token: `token-${this.store.snowflake()}`,
      userId: user.id,
      channelId,
      createdAt: Date.now(),
      expired: false,
      callbacks: [],
      followUps: [],
    };
    this.store.interactions.set(interaction.id, interaction);
    this.gateway.dispatch('INTERACTION_CREATE', {
      id: interaction.id,
      application_id: this.applicationId,
      type,
      token: interaction.token,
      version: 1,
      channel_id: channelId,
      channel,
      ...(channel.guild_id === undefined
        ? { user, context: 1 }
        : { guild_id: channel.guild_id, member: this.#member(user), context: 0 }),
      data,
      ...(message === undefined ? {} : { message: SimStore.wire(message) }),
      app_permissions: '2248473465835073',
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners:
        channel.guild_id === undefined ? { '1': user.id } : { '0': channel.guild_id },
      attachment_size_limit: 26_214_400,
    });
    return interaction;
  }
}
