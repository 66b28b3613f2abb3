import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SimStore } from './store.js';

/** The fields of IDENTIFY and RESUME the simulation reads. */
interface GatewayData {
  token?: string;
  session_id?: string;
  seq?: number;
}

interface Dispatch {
  readonly s: number;
  readonly t: string;
  readonly d: unknown;
}

/** One gateway session: survives a dropped connection so that RESUME can replay what was missed. */
interface Session {
  readonly id: string;
  seq: number;
  readonly log: Dispatch[];
  socket: WebSocket | undefined;
}

export interface GatewayCounters {
  identifies: number;
  resumes: number;
  heartbeats: number;
}

/**
 * The gateway as discord.js speaks it (API v10, JSON, no compression): HELLO, heartbeats and
 * their acks, IDENTIFY -> READY and a GUILD_CREATE per guild, RESUME with replay of the events
 * sent while the connection was down, and dispatches the tests ask for.
 */
export class SimGateway {
  readonly counters: GatewayCounters = { identifies: 0, resumes: 0, heartbeats: 0 };
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #store: SimStore;
  readonly #token: string;
  readonly #botUser: () => { id: string; username: string; bot: boolean };
  readonly #applicationId: string;
  #session: Session | undefined;
  url = '';

  constructor(options: {
    store: SimStore;
    token: string;
    botUser: () => { id: string; username: string; bot: boolean };
    applicationId: string;
  }) {
    this.#store = options.store;
    this.#token = options.token;
    this.#botUser = options.botUser;
    this.#applicationId = options.applicationId;
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws));
  }

  /** Whether a connection has identified or resumed and is open. */
  get connected(): boolean {
    return this.#session?.socket !== undefined;
  }

  /** Sends an event to the bot now, or keeps it for RESUME when the connection is down. */
  dispatch(t: string, d: unknown): void {
    const session = this.#session;
    if (session === undefined) throw new Error('the bot has not identified yet');
    session.seq += 1;
    const event = { s: session.seq, t, d };
    session.log.push(event);
    session.socket?.send(JSON.stringify({ op: 0, ...event }));
  }

  /** Cuts the connection without a close frame, as a network failure does; the client resumes. */
  drop(): void {
    const socket = this.#session?.socket;
    if (this.#session !== undefined) this.#session.socket = undefined;
    socket?.terminate();
  }

  close(): void {
    for (const client of this.#server.clients) client.terminate();
    this.#server.close();
  }

  #accept(ws: WebSocket): void {
    const send = (payload: unknown) => ws.send(JSON.stringify(payload));
    send({ op: 10, d: { heartbeat_interval: 30_000 } });
    ws.on('message', (raw) => {
      const { op, d } = JSON.parse(raw.toString()) as { op: number; d: GatewayData | null };
      if (op === 1) {
        this.counters.heartbeats += 1;
        send({ op: 11 });
      } else if (op === 2) this.#identify(ws, d ?? {});
      else if (op === 6) this.#resume(ws, d ?? {});
    });
    ws.on('close', () => {
      if (this.#session?.socket === ws) this.#session.socket = undefined;
    });
  }

  #identify(ws: WebSocket, d: GatewayData): void {
    if (d.token !== this.#token) {
      ws.close(4004, 'Authentication failed.');
      return;
    }
    this.counters.identifies += 1;
    this.#session = { id: this.#store.snowflake(), seq: 0, log: [], socket: ws };
    const guilds = [...this.#store.guilds.values()];
    this.dispatch('READY', {
      v: 10,
      user: this.#botUser(),
      guilds: guilds.map((guild) => ({ id: guild.id, unavailable: true })),
      session_id: this.#session.id,
      resume_gateway_url: this.url,
      application: { id: this.#applicationId, flags: 0 },
      private_channels: [],
    });
    for (const guild of guilds) this.dispatch('GUILD_CREATE', this.guildPayload(guild.id));
  }

  #resume(ws: WebSocket, d: GatewayData): void {
    const session = this.#session;
    if (session === undefined || d.session_id !== session.id || d.token !== this.#token) {
      ws.send(JSON.stringify({ op: 9, d: false }));
      return;
    }
    this.counters.resumes += 1;
    session.socket = ws;
    const after = Number(d.seq ?? 0);
    for (const event of session.log) if (event.s > after) ws.send(JSON.stringify({ op: 0, ...event }));
    session.seq += 1;
    ws.send(JSON.stringify({ op: 0, s: session.seq, t: 'RESUMED', d: {} }));
  }

  guildPayload(guildId: string): Record<string, unknown> {
    const guild = this.#store.guilds.get(guildId);
    if (guild === undefined) throw new Error(`no guild ${guildId}`);
    const channels = [...this.#store.channels.values()].filter((channel) => channel.guild_id === guildId);
    const isThread = (type: number) => type === 10 || type === 11 || type === 12;
    const bot = this.#botUser();
    return {
      id: guild.id,
      name: guild.name,
      owner_id: guild.ownerId,
      unavailable: false,
      member_count: 2,
      large: false,
      joined_at: new Date().toISOString(),
      roles: [everyoneRole(guild.id)],
      channels: channels.filter((channel) => !isThread(channel.type)),
      threads: channels.filter((channel) => isThread(channel.type)),
      members: [{ user: bot, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false }],
      emojis: [],
      stickers: [],
      features: [],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }
}

function everyoneRole(guildId: string): Record<string, unknown> {
  return {
    id: guildId,
    name: '@everyone',
    permissions: '2248473465835073',
    position: 0,
    color: 0,
    hoist: false,
    managed: false,
    mentionable: false,
    flags: 0,
  };
}
