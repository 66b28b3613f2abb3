/** The simulated workspace's data: channels' messages and the files in them. */

export const simulatedIds = {
  team: 'T0SIM',
  botUser: 'U0BOT',
  bot: 'B0BOT',
  app: 'A0APP',
  botToken: 'xoxb-simulated-bot-token',
  appToken: 'xapp-simulated-app-token',
  signingSecret: 'simulated-signing-secret',
} as const;

export interface SimulatedFile {
  readonly id: string;
  readonly name: string;
  readonly mimetype: string;
  readonly bytes: Uint8Array;
  readonly user: string;
}

export interface SimulatedMessage {
  ts: string;
  readonly channel: string;
  readonly thread_ts?: string;
  readonly user?: string;
  readonly bot_id?: string;
  text: string;
  blocks?: unknown[];
  metadata?: unknown;
  readonly files?: readonly string[];
  /** How many times chat.update changed it. */
  edits: number;
}

/** Messages per channel, oldest first, with Slack's timestamps as ids. */
export class Workspace {
  readonly messages: SimulatedMessage[] = [];
  readonly files = new Map<string, SimulatedFile>();
  #clock = 1_700_000_000;
  #sequence = 0;
  #fileSequence = 0;

  nextTs(): string {
    this.#sequence += 1;
    return `${this.#clock + this.#sequence}.${String(this.#sequence).padStart(6, '0')}`;
  }

  addFile(file: Omit<SimulatedFile, 'id'>, id?: string): SimulatedFile {
    this.#fileSequence += 1;
    const stored = { ...file, id: id ?? `F${String(this.#fileSequence).padStart(6, '0')}` };
    this.files.set(stored.id, stored);
    return stored;
  }

  post(message: Omit<SimulatedMessage, 'ts' | 'edits'>): SimulatedMessage {
    const stored: SimulatedMessage = { ...message, ts: this.nextTs(), edits: 0 };
    this.messages.push(stored);
    return stored;
  }

  find(channel: string, ts: string): SimulatedMessage | undefined {
    return this.messages.find((message) => message.channel === channel && message.ts === ts);
  }

  /** A thread: its parent, then its replies, oldest first (conversations.replies). */
  thread(channel: string, ts: string): SimulatedMessage[] {
    return this.messages.filter(
      (message) => message.channel === channel && (message.ts === ts || message.thread_ts === ts),
    );
  }

  /** The bot's messages in a thread, oldest first. */
  botReplies(channel: string, threadTs: string): SimulatedMessage[] {
    return this.thread(channel, threadTs).filter((message) => message.bot_id === simulatedIds.bot);
  }
}
