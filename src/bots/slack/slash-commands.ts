import type { App, RespondFn } from '@slack/bolt';
import { toEmuBotError } from '../../core/index.js';
import { emuUsage, parseEmu, parseImagine } from './command-text.js';
import { readThread, type SlackMessage, toConversation } from './conversation-reader.js';
import { startDrawings } from './drawings.js';
import { handleRequest } from './handle-request.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { isAllowed, type SlackContext } from './slack-context.js';

interface CommandFields {
  readonly team_id?: string;
  readonly channel_id: string;
  readonly user_id: string;
  readonly text: string;
}

/** How far back `/emu describe` looks for an image in the channel. */
const describeLookback = 20;

/**
 * `/imagine` and `/emu`. Each is acknowledged before any work (Slack waits 3 seconds); the
 * request then opens a thread under a message that says who asked for what.
 */
export function registerCommands(app: App, context: () => SlackContext): void {
  app.command('/imagine', async ({ command, ack, respond }) => {
    await ack();
    const ctx = context();
    const fields = command as unknown as CommandFields;
    if (!isAllowed(ctx.config, fields.team_id, fields.channel_id)) return notHere(respond);
    try {
      const args = parseImagine(fields.text, ctx.config.queue.payload.maxSteps);
      const threadTs = await openThread(ctx, fields, `asked me to draw: ${escapeMrkdwn(args.prompt)}`);
      await startDrawings(ctx, {
        teamId: fields.team_id,
        userId: fields.user_id,
        record: {
          prompt: args.prompt,
          steps: args.steps,
          guidance: args.guidance,
          channel: fields.channel_id,
          threadTs,
        },
        count: args.count,
        seed: args.seed,
      });
    } catch (error) {
      await respond({ response_type: 'ephemeral', text: toEmuBotError(error).userMessage });
    }
  });

  app.command('/emu', async ({ command, ack, respond }) => {
    await ack();
    const ctx = context();
    const fields = command as unknown as CommandFields;
    if (!isAllowed(ctx.config, fields.team_id, fields.channel_id)) return notHere(respond);
    const parsed = parseEmu(fields.text);
    try {
      if (parsed.name === 'help') await respond({ response_type: 'ephemeral', text: emuUsage });
      else if (parsed.name === 'queue')
        await respond({ response_type: 'ephemeral', text: await queueText(ctx, fields.user_id) });
      else if (parsed.name === 'ask') await ask(ctx, fields, parsed.question);
      else await describe(ctx, fields, respond);
    } catch (error) {
      await respond({ response_type: 'ephemeral', text: toEmuBotError(error).userMessage });
    }
  });
}

async function ask(context: SlackContext, fields: CommandFields, question: string): Promise<void> {
  const threadTs = await openThread(context, fields, `asked: ${escapeMrkdwn(question)}`);
  const where = { teamId: fields.team_id, channel: fields.channel_id };
  const message: SlackMessage = { ts: threadTs, user: fields.user_id, text: question };
  await handleRequest(context, {
    ...where,
    threadTs,
    userId: fields.user_id,
    intent: 'answer',
    what: question.slice(0, 80),
    conversation: async () => toConversation([message], where, context.bot),
  });
}

/** Describes the newest image posted in the channel, in that message's thread. */
async function describe(context: SlackContext, fields: CommandFields, respond: RespondFn): Promise<void> {
  const history = await context.client.conversations.history({
    channel: fields.channel_id,
    limit: describeLookback,
  });
  const withImage = ((history.messages ?? []) as SlackMessage[]).find((message) =>
    (message.files ?? []).some((file) => file.mimetype?.startsWith('image/') === true),
  );
  if (withImage?.ts === undefined) {
    await respond({ response_type: 'ephemeral', text: 'I found no image among the recent messages here.' });
    return;
  }
  const where = {
    teamId: fields.team_id,
    channel: fields.channel_id,
    threadTs: withImage.thread_ts ?? withImage.ts,
  };
  const imageTs = withImage.ts;
  await handleRequest(context, {
    ...where,
    userId: fields.user_id,
    intent: 'describe',
    what: 'describe an image',
    conversation: async () => {
      const thread = await readThread(
        context.client,
        where,
        imageTs,
        context.bot,
        context.config.slack.historyMessages,
      );
      return { ...thread, messages: thread.messages.filter((message) => message.id === imageTs) };
    },
  });
}

async function queueText(context: SlackContext, userId: string): Promise<string> {
  return context.status.describe(userId, await context.store.personJobs(userId));
}

/** Posts "<@user> asked ..." in the channel; its thread holds the answer. */
async function openThread(context: SlackContext, fields: CommandFields, what: string): Promise<string> {
  const posted = await context.client.chat.postMessage({
    channel: fields.channel_id,
    text: `<@${fields.user_id}> ${what}`,
  });
  return posted.ts as string;
}

async function notHere(respond: RespondFn): Promise<void> {
  await respond({ response_type: 'ephemeral', text: 'I am not available in this channel.' });
}
