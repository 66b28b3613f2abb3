import { EmuBotError } from '../../core/index.js';

/**
 * Where a job's answer goes on Discord, carried in the job's origin (`JobOrigin.reference`) so
 * that any bot process can post it, after a restart too: nothing about a job lives in memory.
 */
export interface DiscordReference {
  /** The channel or thread the answer is posted in. */
  readonly channelId: string;
  /** The person who asked, mentioned when the answer cannot go through the interaction. */
  readonly userId: string;
  /** The bot's message that shows the job while it waits and runs (mentions), edited at the end. */
  readonly messageId?: string;
  /** The interaction answered (slash commands, buttons); its id dates it, its token expires. */
  readonly interaction?: { readonly id: string; readonly token: string; readonly applicationId: string };
  /** Put before the model's answer (the caption prompt's opening words). */
  readonly answerPrefix?: string;
  /** Said under the answer: what the context budget left out. */
  readonly note?: string;
  /**
   * For image jobs: the drawing this image belongs to, its place among the drawing's images, and
   * the denoising steps asked (for "step 23/50").
   */
  readonly drawing?: {
    readonly id: string;
    readonly index: number;
    readonly count: number;
    readonly steps?: number;
  };
}

/** Notes are shortened so that the reference stays well inside `queue.payload.maxReferenceBytes`. */
const maxNoteLength = 600;

export function encodeReference(reference: DiscordReference): string {
  const note = reference.note;
  return JSON.stringify(
    note === undefined || note.length <= maxNoteLength
      ? reference
      : { ...reference, note: `${note.slice(0, maxNoteLength - 1)}…` },
  );
}

export function decodeReference(text: string): DiscordReference {
  try {
    const value = JSON.parse(text) as Partial<DiscordReference>;
    if (typeof value.channelId === 'string' && typeof value.userId === 'string')
      return value as DiscordReference;
  } catch (error) {
    throw new EmuBotError('INTERNAL', 'a Discord job reference is not JSON', { cause: error });
  }
  throw new EmuBotError('INTERNAL', 'a Discord job reference lacks its channel or user');
}
