import type { App } from '@slack/bolt';
import type { Conversation } from '../../chat/index.js';
import { readThread, type SlackMessage, toConversation } from './conversation-reader.js';
import { handleRequest } from './handle-request.js';
import { mentionsBot, plainText } from './mrkdwn.js';
import { isAllowed, type SlackContext } from './slack-context.js';

interface MessageEventFields extends SlackMessage {
  readonly channel: string;
  readonly channel_type?: string;
}

/** Subtypes that are a person's new message; edits, joins and bot posts are not requests. */
const requestSubtypes = new Set([undefined, 'file_share', 'thread_broadcast']);

/** "imagine ..." or "draw ..." at the start asks for a drawing (with the message's images, a blend). */
const drawingWords = /^(?:imagine|draw)\b[:,]?\s*/i;

/**
 * Mentions answer in the message's thread; later messages in a thread the bot is part of continue
 * it; direct messages are answered when `slack.directMessages` is on. Bolt's ignoreSelf drops the
 * bot's own messages; other bots' messages are ignored here.
 */
export function registerEvents(app: App, context: () => SlackContext): void {
  app.event('app_mention', async ({ event, body }) => {
    const message = event as unknown as MessageEventFields;
    if (message.bot_id !== undefined) return;
    await answer(context(), message, body.team_id);
  });

  app.message(async ({ message, body }) => {
    const fields = message as unknown as MessageEventFields;
    const ctx = context();
    if (!requestSubtypes.has(fields.subtype) || fields.bot_id !== undefined || fields.user === undefined)
      return;
    if (fields.channel_type === 'im') {
      if (ctx.config.slack.directMessages) await answer(ctx, fields, body.team_id);
      return;
    }
    // A mention arrives as app_mention too; answering it here as well would answer twice.
    if (mentionsBot(fields.text ?? '', ctx.bot.userId) || fields.thread_ts === undefined) return;
    if (await ctx.store.inThread(fields.channel, fields.thread_ts)) await answer(ctx, fields, body.team_id);
  });
}

async function answer(
  context: SlackContext,
  message: MessageEventFields,
  teamId: string | undefined,
): Promise<void> {
  const { user, ts } = message;
  if (!isAllowed(context.config, teamId, message.channel) || user === undefined || ts === undefined) return;
  const threadTs = message.thread_ts ?? ts;
  const where = { teamId, channel: message.channel, threadTs };
  const text = plainText(message.text ?? '', context.bot.userId);
  const drawing = drawingWords.exec(text);
  const read = async (): Promise<Conversation> =>
    message.thread_ts === undefined
      ? toConversation([message], where, context.bot)
      : readThread(context.client, where, ts, context.bot, context.config.slack.historyMessages);
  if (drawing === null) {
    await handleRequest(context, { ...where, userId: user, what: summary(text), conversation: read });
    return;
  }
  const prompt = text.slice(drawing[0].length);
  await handleRequest(context, {
    ...where,
    userId: user,
    intent: 'imagine',
    what: summary(prompt),
    drawing: { steps: null, guidance: null },
    // The drawing is made from the request alone, without the words that asked for it.
    conversation: async () => {
      const conversation = await read();
      const request = conversation.messages.at(-1);
      if (request === undefined) return conversation;
      return { ...conversation, messages: [{ ...request, text: prompt }] };
    },
  });
}

function summary(text: string): string {
  return text === '' ? 'an attachment' : text.length <= 80 ? text : `${text.slice(0, 79)}…`;
}
