import { createHash } from 'node:crypto';
import { type FlaggedImagePolicy, type ImageBlurrer, imageReply, splitText } from '../../chat/index.js';
import { blurPng } from '../../engine/index.js';
import type { JobOutcome } from '../../queue/index.js';
import { drawingRows } from './components.js';
import type { DrawingStore, DrawnImage } from './drawings.js';
import { type DiscordReference, decodeReference } from './reference.js';
import type { DiscordReplies, ReplyFile } from './replies.js';
import { messageLimit } from './status-text.js';

export interface DeliveryParts {
  readonly replies: DiscordReplies;
  readonly drawings: DrawingStore;
  readonly flaggedImages: FlaggedImagePolicy;
}

/**
 * Posts a job's final answer from its reference: text replaces the waiting message (split into
 * more messages past 2,000 characters; posted anew when there is none, `waitingMessageId` naming
 * one posted since the job was queued), and a drawing's images are posted together with their
 * buttons once the last one is in. A failure is shown only to the person while the interaction's
 * token lives. Safe to call again for the same job after a failure.
 */
export async function deliverOutcome(
  parts: DeliveryParts,
  outcome: JobOutcome,
  waitingMessageId?: string,
): Promise<void> {
  const decoded = decodeReference(outcome.origin.reference);
  const reference =
    waitingMessageId === undefined || decoded.messageId !== undefined
      ? decoded
      : { ...decoded, messageId: waitingMessageId };
  if (reference.drawing !== undefined) return deliverDrawing(parts, outcome, reference, reference.drawing);
  if (outcome.status === 'failed') {
    const content = `⚠️ ${outcome.userMessage}`;
    if (await parts.replies.failPrivately(reference, content)) return;
    await parts.replies.edit(reference, { content, components: [] }, 'final', nonce(outcome.jobId, -1));
    return;
  }
  const answer = outcome.text?.text.trim() ?? '';
  const prefix = reference.answerPrefix === undefined ? '' : `${reference.answerPrefix} `;
  const body = answer === '' && prefix === '' ? '(Emu had nothing to say.)' : `${prefix}${answer}`;
  const text = reference.note === undefined ? body : `${body}\n\n-# ${reference.note}`;
  const [first = '', ...rest] = splitText(text, messageLimit);
  await parts.replies.edit(reference, { content: first, components: [] }, 'final', nonce(outcome.jobId, -1));
  for (const [index, chunk] of rest.entries()) {
    await parts.replies.post(reference, { content: chunk }, nonce(outcome.jobId, index));
  }
}

async function deliverDrawing(
  parts: DeliveryParts,
  outcome: JobOutcome,
  reference: DiscordReference,
  drawing: NonNullable<DiscordReference['drawing']>,
): Promise<void> {
  const image: DrawnImage =
    outcome.status === 'failed'
      ? { error: outcome.userMessage }
      : outcome.image === undefined
        ? { error: 'The drawing came back empty; please try again.' }
        : outcome.image;
  const all = await parts.drawings.add(drawing.id, drawing.index, drawing.count, image);
  if (all === undefined) return;
  const record = await parts.drawings.get(drawing.id);
  const files: ReplyFile[] = [];
  const notes = new Set<string>();
  for (const item of all) {
    if ('error' in item) {
      notes.add(item.error);
      continue;
    }
    const reply = await imageReply(item, record?.prompt || 'the images given', parts.flaggedImages, blurrer);
    if (reply.note !== undefined) notes.add(reply.note);
    if (reply.image !== undefined) {
      const name = `${reply.image.spoiler ? 'SPOILER_' : ''}emu-${files.length + 1}.png`;
      files.push({ name, data: reply.image.png, description: reply.image.altText });
    }
  }
  const title = record?.prompt ? `**${record.prompt.slice(0, 300)}**` : '**Blend**';
  const seed = record === undefined ? '' : ` · seed ${record.seed}`;
  if (files.length === 0) {
    // Nothing to show (cancelled, refused, failed): said to the person alone while possible.
    const reasons = [...notes].join('\n');
    if (
      await parts.replies.failPrivately(reference, `⚠️ ${reasons || 'The drawing failed; please try again.'}`)
    )
      return;
  }
  const lines = [
    files.length > 0 ? `${title}${seed}` : `⚠️ ${title}`,
    ...[...notes].map((note) => `-# ${note}`),
  ];
  await parts.replies.edit(reference, {
    content: lines.join('\n').slice(0, messageLimit),
    files,
    components: files.length === 0 && record === undefined ? [] : drawingRows(drawing.id, files.length),
  });
}

const blurrer: ImageBlurrer = { blurPng };

/** A per-message idempotency key within Discord's 25 characters. */
function nonce(jobId: string, index: number): string {
  return createHash('sha256').update(`${jobId}:${index}`).digest('base64url').slice(0, 25);
}
