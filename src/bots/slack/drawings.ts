import type { ChatMessage, Conversation } from '../../chat/index.js';
import { EmuBotError } from '../../core/index.js';
import { handleRequest } from './handle-request.js';
import type { SlackContext } from './slack-context.js';
import type { DrawingRecord } from './slack-store.js';

export interface DrawingAsk {
  readonly teamId: string | undefined;
  readonly userId: string;
  readonly record: DrawingRecord;
  readonly count: number;
  /** The first image's seed (the next ones count up); a random seed when null. */
  readonly seed: number | null;
}

/**
 * Starts `count` drawings into the record's thread, each with its own status message and its own
 * record, so that every image's buttons (regenerate, variations, edit) work on their own, also
 * after a restart. A record with `sourceFileId` draws a variation of that image.
 */
export async function startDrawings(context: SlackContext, ask: DrawingAsk): Promise<void> {
  const { record } = ask;
  await context.store.joinThread(record.channel, record.threadTs);
  const drawings = Array.from({ length: ask.count }, async (_, index) => {
    const drawingId = await context.store.saveDrawing({
      prompt: record.prompt,
      steps: record.steps,
      guidance: record.guidance,
      channel: record.channel,
      threadTs: record.threadTs,
      ...(record.sourceFileId === undefined ? {} : { sourceFileId: record.sourceFileId }),
    });
    await handleRequest(context, {
      teamId: ask.teamId,
      channel: record.channel,
      threadTs: record.threadTs,
      userId: ask.userId,
      intent: 'imagine',
      what: record.sourceFileId === undefined ? record.prompt : `a variation of ${record.prompt}`,
      drawing: {
        ...(ask.seed === null ? {} : { seed: ask.seed + index }),
        steps: record.steps,
        guidance: record.guidance,
        drawingId,
      },
      conversation: () => drawingConversation(context, ask),
    });
  });
  await Promise.all(drawings);
}

async function drawingConversation(context: SlackContext, ask: DrawingAsk): Promise<Conversation> {
  const { record } = ask;
  const message: ChatMessage = {
    id: 'drawing',
    author: { id: ask.userId, name: ask.userId, role: 'person' },
    text: record.sourceFileId === undefined ? record.prompt : '',
    attachments: record.sourceFileId === undefined ? [] : [await uploadedImage(context, record.sourceFileId)],
    sentAt: Date.now(),
  };
  return {
    platform: 'slack',
    ...(ask.teamId === undefined ? {} : { serverId: ask.teamId }),
    channel: { id: record.channel, nsfw: false },
    messages: [message],
  };
}

/** A file the bot uploaded, found again through files.info: its URL is private and may change. */
async function uploadedImage(
  context: SlackContext,
  fileId: string,
): Promise<ChatMessage['attachments'][number]> {
  const { file } = await context.client.files.info({ file: fileId });
  const url = file?.url_private_download ?? file?.url_private;
  if (url === undefined) {
    throw new EmuBotError('ATTACHMENT_DOWNLOAD_FAILED', `files.info gave no URL for ${fileId}`, {
      userMessage: 'I could not find that image any more; it may have been deleted.',
    });
  }
  return {
    id: fileId,
    name: file?.name ?? 'emu.png',
    url,
    declaredKind: 'image',
    declaredContentType: 'image/png',
  };
}
