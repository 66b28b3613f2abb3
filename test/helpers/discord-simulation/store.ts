/**
 * The simulated Discord's data: users, guilds, channels (threads included), messages with their
 * attachments, and what interactions were answered with. Objects are kept in Discord's own JSON
 * shapes (API v10), so the REST and gateway sides hand them out as they are.
 */

const discordEpoch = 1_420_070_400_000n;

export interface SimUser {
  readonly id: string;
  readonly username: string;
  readonly bot?: boolean;
}

export interface SimAttachment {
  readonly id: string;
  readonly filename: string;
  readonly content_type: string;
  readonly size: number;
  readonly url: string;
  readonly proxy_url: string;
  readonly description?: string;
}

export interface SimMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: SimUser;
  content: string;
  attachments: SimAttachment[];
  components: unknown[];
  embeds: unknown[];
  flags: number;
  mentions: SimUser[];
  message_reference?: { message_id: string; channel_id: string };
  nonce?: string;
  timestamp: string;
  edited_timestamp: string | null;
  type: number;
  /** Every content this message had, oldest first (the streaming edits). */
  readonly history: string[];
  /** When each of those contents was set (epoch ms), for the benchmark. */
  readonly historyAt: number[];
}

export interface SimChannel {
  id: string;
  type: number;
  name: string;
  guild_id?: string;
  parent_id?: string;
  nsfw: boolean;
  owner_id?: string;
  thread_metadata?: {
    archived: boolean;
    locked: boolean;
    auto_archive_duration: number;
    archive_timestamp: string;
  };
  recipients?: SimUser[];
  /** When the channel was made (epoch ms): threads the bot starts, for the benchmark. */
  createdAt?: number;
}

export interface SimGuild {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
}

/** What the bot did with one interaction: callbacks, its original response and follow-ups. */
export interface SimInteraction {
  readonly id: string;
  readonly token: string;
  readonly userId: string;
  readonly channelId: string;
  readonly createdAt: number;
  expired: boolean;
  /** Callback types in order (5 deferred reply, 6 deferred update, 7 update, 9 modal, 4 reply). */
  readonly callbacks: number[];
  callbackAt?: number;
  original?: SimMessage;
  /** The modal shown, when the callback was 9. */
  modal?: unknown;
  /** Whether the bot deleted its original response. */
  originalDeleted?: boolean;
  readonly followUps: SimMessage[];
}

export class SimStore {
  readonly users = new Map<string, SimUser>();
  readonly guilds = new Map<string, SimGuild>();
  readonly channels = new Map<string, SimChannel>();
  readonly messages = new Map<string, SimMessage>();
  readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  readonly interactions = new Map<string, SimInteraction>();
  readonly commands = new Map<string, unknown[]>();
  readonly roles = new Map<string, string[]>();
  #counter = 0n;
  cdnUrl = '';

  snowflake(): string {
    this.#counter += 1n;
    return (((BigInt(Date.now()) - discordEpoch) << 22n) | (this.#counter & 0x3fffffn)).toString();
  }

  addUser(username: string, bot = false): SimUser {
    const user: SimUser = { id: this.snowflake(), username, ...(bot ? { bot } : {}) };
    this.users.set(user.id, user);
    return user;
  }

  addGuild(name: string, ownerId: string): SimGuild {
    const guild: SimGuild = { id: this.snowflake(), name, ownerId };
    this.guilds.set(guild.id, guild);
    return guild;
  }

  addChannel(channel: Omit<SimChannel, 'id'> & { id?: string }): SimChannel {
    const created: SimChannel = { ...channel, id: channel.id ?? this.snowflake() };
    this.channels.set(created.id, created);
    return created;
  }

  /** Stores a file on the CDN and describes it as an attachment. */
  attach(filename: string, bytes: Uint8Array, contentType: string, channelId: string): SimAttachment {
    const id = this.snowflake();
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    this.files.set(path, { bytes, contentType });
    return {
      id,
      filename,
      content_type: contentType,
      size: bytes.byteLength,
      url: `${this.cdnUrl}${path}`,
      proxy_url: `${this.cdnUrl}${path}`,
    };
  }

  addMessage(fields: Partial<SimMessage> & Pick<SimMessage, 'channel_id' | 'author'>): SimMessage {
    const channel = this.channels.get(fields.channel_id);
    const message: SimMessage = {
      id: this.snowflake(),
      content: '',
      attachments: [],
      components: [],
      embeds: [],
      flags: 0,
      mentions: [],
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      type: 0,
      history: [],
      historyAt: [],
      ...(channel?.guild_id === undefined ? {} : { guild_id: channel.guild_id }),
      ...fields,
    };
    message.history.push(message.content);
    message.historyAt.push(Date.now());
    this.messages.set(message.id, message);
    return message;
  }

  /** Messages of a channel, oldest first. */
  channelMessages(channelId: string): SimMessage[] {
    return [...this.messages.values()]
      .filter((message) => message.channel_id === channelId)
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /** A message as the API shows it (without the simulation's edit history). */
  static wire(message: SimMessage): Omit<SimMessage, 'history' | 'historyAt'> {
    const { history: _history, historyAt: _historyAt, ...wire } = message;
    return wire;
  }
}
