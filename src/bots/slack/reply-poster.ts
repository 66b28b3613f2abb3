import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import {
  type FlaggedImagePolicy,
  type ImageBlurrer,
  type ImageReply,
  imageReply,
  splitText,
} from '../../chat/index.js';
import { EmuBotError } from '../../core/index.js';
import { blurPng } from '../../engine/index.js';
import type { CompletedOutcome, JobOutcome } from '../../queue/index.js';
import { drawingBlocks } from './blocks.js';
import { answerEventType } from './conversation-reader.js';
import { decodeReference, type SlackJobReference } from './job-reference.js';
import type { MessageEditor } from './message-editor.js';
import { escapeMrkdwn, messageTextLimit } from './mrkdwn.js';
import type { SlackStore } from './slack-store.js';
import { joinPrefix } from './status-text.js';

const blurrer: ImageBlurrer = { blurPng };

/**
 * Posts a job's final answer into its Slack thread: the status message becomes the answer's
 * first part and further parts follow; a drawing is uploaded (files.uploadV2) and the status
 * message gets the image's buttons. Parts already posted are recorded, so a delivery tried again
 * after a failure posts only what is missing.
 */
export class ReplyPoster {
  readonly #client: webApi.WebClient;
  readonly #editor: MessageEditor;
  readonly #store: SlackStore;
  readonly #flagged: FlaggedImagePolicy;
  readonly #logger: Logger;

  constructor(parts: {
    client: webApi.WebClient;
    editor: MessageEditor;
    store: SlackStore;
    flaggedImages: FlaggedImagePolicy;
    logger: Logger;
  }) {
    this.#client = parts.client;
    this.#editor = parts.editor;
    this.#store = parts.store;
    this.#flagged = parts.flaggedImages;
    this.#logger = parts.logger;
  }

  async deliver(outcome: JobOutcome): Promise<void> {
    const reference = decodeReference(outcome.origin.reference);
    if (outcome.status === 'failed') {
      const text =
        outcome.code === 'ABORTED'
          ? ':no_entry_sign: Cancelled.'
          : `:warning: ${escapeMrkdwn(outcome.userMessage)}`;
      await this.#editor.final({ channel: reference.channel, ts: reference.statusTs, text, blocks: [] });
    } else if (outcome.image !== undefined) {
      await this.#postImage(outcome, reference);
    } else {
      await this.#postText(outcome, reference);
    }
    await this.#store.removePersonJob(outcome.origin.userId, outcome.jobId);
  }

  async #postText(outcome: CompletedOutcome, reference: SlackJobReference): Promise<void> {
    const answer = joinPrefix(reference.answerPrefix, outcome.text?.text ?? '');
    const body = [escapeMrkdwn(answer === '' ? '(no answer)' : answer), ...reference.notes.map(noteLine)];
    const parts = splitText(body.join('\n\n'), messageTextLimit);
    const metadata = { event_type: answerEventType, event_payload: { job: outcome.jobId } };
    const posted = await this.#store.postedParts(outcome.jobId);
    for (const [index, text] of parts.entries()) {
      if (index < posted) continue;
      if (index === 0) {
        await this.#editor.final({
          channel: reference.channel,
          ts: reference.statusTs,
          text,
          blocks: [],
          metadata,
        });
      } else {
        await this.#client.chat.postMessage({
          channel: reference.channel,
          thread_ts: reference.threadTs,
          text,
          metadata,
        });
      }
      await this.#store.setPostedParts(outcome.jobId, index + 1);
    }
  }

  async #postImage(outcome: CompletedOutcome, reference: SlackJobReference): Promise<void> {
    const drawnFrom = reference.drawnFrom ?? 'a prompt';
    const reply = await this.#imageReply(outcome, drawnFrom);
    const where = { channel: reference.channel, ts: reference.statusTs };
    const notes = [reply.note, ...reference.notes].filter((note): note is string => note !== undefined);
    if (reply.image === undefined) {
      await this.#editor.final({ ...where, text: notes.map(noteLine).join('\n'), blocks: [] });
      return;
    }
    let fileId: string | undefined;
    if ((await this.#store.postedParts(outcome.jobId)) === 0) {
      fileId = await this.#upload(reply.image.png, reply.image.fileName, reply.image.altText, reference);
      await this.#store.setPostedParts(outcome.jobId, 1);
    }
    const text = [`:frame_with_picture: Drawn from: ${escapeMrkdwn(drawnFrom)}`, ...notes.map(noteLine)].join(
      '\n',
    );
    const record =
      reference.drawingId === undefined ? undefined : await this.#store.drawing(reference.drawingId);
    if (record === undefined || reference.drawingId === undefined) {
      await this.#editor.final({ ...where, text, blocks: [] });
      return;
    }
    if (fileId !== undefined) await this.#store.updateDrawing(reference.drawingId, { ...record, fileId });
    await this.#editor.final({ ...where, text, blocks: drawingBlocks(text, reference.drawingId) });
  }

  async #imageReply(outcome: CompletedOutcome, drawnFrom: string): Promise<ImageReply> {
    const result = { png: outcome.image?.png ?? new Uint8Array(), flagged: outcome.image?.flagged ?? false };
    try {
      return await imageReply(result, drawnFrom, this.#flagged, blurrer);
    } catch (error) {
      this.#logger.warn(
        { err: error, jobId: outcome.jobId },
        'cannot blur a flagged image; refusing it instead',
      );
      return imageReply(result, drawnFrom, 'refuse', blurrer);
    }
  }

  async #upload(
    png: Uint8Array,
    fileName: string,
    altText: string,
    reference: SlackJobReference,
  ): Promise<string> {
    const answer = await this.#client.files.uploadV2({
      channel_id: reference.channel,
      thread_ts: reference.threadTs,
      file: Buffer.from(png),
      filename: fileName,
      title: fileName,
      alt_text: altText.slice(0, 1000),
    });
    const uploaded = answer as unknown as { files?: { files?: { id?: string }[] }[] };
    const id = uploaded.files?.[0]?.files?.[0]?.id;
    if (id === undefined) throw new EmuBotError('INTERNAL', 'files.uploadV2 answered without a file id');
    return id;
  }
}

function noteLine(note: string): string {
  return `_${escapeMrkdwn(note)}_`;
}
