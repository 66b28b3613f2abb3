import { z } from 'zod';
import { EmuBotError } from '../../core/index.js';

/**
 * Where a Slack job's answer goes and what to say with it, carried in the job's
 * `origin.reference` so that whichever bot process receives the outcome can post it.
 */
export interface SlackJobReference {
  readonly channel: string;
  readonly threadTs: string;
  /** The bot's status message, edited while the job waits and runs, then replaced by the answer. */
  readonly statusTs: string;
  /** Already in the prompt; goes before the model's answer (the caption prompt's opening words). */
  readonly answerPrefix: string;
  /** Notes for the reply: what the context budget left out, attachments skipped. */
  readonly notes: readonly string[];
  /** For drawings: the record behind the image's buttons. */
  readonly drawingId?: string;
  /** What was drawn from, for alt text. */
  readonly drawnFrom?: string;
}

const referenceSchema = z.strictObject({
  channel: z.string(),
  threadTs: z.string(),
  statusTs: z.string(),
  answerPrefix: z.string(),
  notes: z.array(z.string()),
  drawingId: z.string().optional(),
  drawnFrom: z.string().optional(),
});

/** The queue caps references (queue.payload.maxReferenceBytes); notes and alt text give way first. */
export function encodeReference(reference: SlackJobReference, maxBytes: number): string {
  const shortened = {
    ...reference,
    notes: reference.notes.map((note) => clip(note, 300)).slice(0, 4),
    ...(reference.drawnFrom === undefined ? {} : { drawnFrom: clip(reference.drawnFrom, 500) }),
  };
  const text = JSON.stringify(shortened);
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const { drawnFrom: _, ...bare } = shortened;
  return JSON.stringify({ ...bare, notes: [] });
}

export function decodeReference(text: string): SlackJobReference {
  try {
    return referenceSchema.parse(JSON.parse(text)) as SlackJobReference;
  } catch (error) {
    throw new EmuBotError('INTERNAL', 'a Slack job carries a reference this adapter cannot read', {
      cause: error,
    });
  }
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
