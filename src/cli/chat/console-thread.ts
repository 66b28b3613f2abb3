import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Attachment, ChatMessage, Conversation } from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { EmuBotError } from '../../core/index.js';
import { createPixelsDecoder, type DecodedMedia, type MediaOutcome } from '../../media/index.js';

const person = { id: 'you', name: 'you', role: 'person' } as const;
const emu = { id: 'emu', name: 'Emu', role: 'bot' } as const;

/**
 * The console's chat thread: messages in order, attachments read and decoded from local files with
 * the same limits and errors as chat uploads, and files attached but not yet sent.
 */
export class ConsoleThread {
  readonly #decoder: ReturnType<typeof createPixelsDecoder>;
  #messages: ChatMessage[] = [];
  #outcomes = new Map<string, MediaOutcome>();
  #pending: Attachment[] = [];
  #nextId = 0;

  constructor(media: Config['media']) {
    this.#decoder = createPixelsDecoder(media);
  }

  /** The attachments that go with the next message. */
  get pending(): readonly Attachment[] {
    return this.#pending;
  }

  get isEmpty(): boolean {
    return this.#messages.length === 0 && this.#pending.length === 0;
  }

  /** Reads and decodes a file for the next message; a file that cannot be used is refused now. */
  async attach(path: string, declaredKind: 'image' | 'video', signal: AbortSignal): Promise<DecodedMedia> {
    const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? 'there is no such file' : (error.code ?? error.message);
      throw new EmuBotError('MEDIA_UNDECODABLE', `${path}: ${reason}`, {
        cause: error,
        userMessage: `I could not read ${path}: ${reason}.`,
      });
    });
    const media = await this.#decoder.decode(new Uint8Array(bytes), signal);
    const attachment = this.#attachment(path, declaredKind);
    this.#outcomes.set(attachment.id, { ok: true, media });
    this.#pending.push(attachment);
    return media;
  }

  /** Posts the person's message with the pending attachments; returns the thread to answer. */
  send(text: string): Conversation {
    this.#messages.push({
      id: this.#id('message'),
      author: person,
      text,
      attachments: this.#pending,
      sentAt: Date.now(),
    });
    this.#pending = [];
    return this.conversation;
  }

  /** Emu's answer, as its turn in the thread. */
  reply(text: string): void {
    this.#messages.push({ id: this.#id('message'), author: emu, text, attachments: [], sentAt: Date.now() });
  }

  /** A one-message conversation of `text` and the pending attachments, outside the thread. */
  standalone(text: string): Conversation {
    const message: ChatMessage = {
      id: this.#id('message'),
      author: person,
      text,
      attachments: this.#pending,
      sentAt: Date.now(),
    };
    return { ...this.#base(), messages: [message] };
  }

  /** The pending attachments were used (by a drawing that went through). */
  clearPending(): void {
    this.#pending = [];
  }

  /** Drops a message that failed, so a retry does not see it twice. */
  forgetLast(): void {
    const last = this.#messages.pop();
    if (last !== undefined && last.author.role === 'person') this.#pending = [...last.attachments];
  }

  get conversation(): Conversation {
    return { ...this.#base(), messages: [...this.#messages] };
  }

  get outcomes(): ReadonlyMap<string, MediaOutcome> {
    return this.#outcomes;
  }

  clear(): void {
    this.#messages = [];
    this.#outcomes = new Map();
    this.#pending = [];
  }

  #base(): Omit<Conversation, 'messages'> {
    return { platform: 'console', channel: { id: 'console', nsfw: false } };
  }

  #attachment(path: string, declaredKind: 'image' | 'video'): Attachment {
    return { id: this.#id('attachment'), name: basename(path), url: `file://${path}`, declaredKind };
  }

  #id(prefix: string): string {
    this.#nextId += 1;
    return `${prefix}-${this.#nextId}`;
  }
}
