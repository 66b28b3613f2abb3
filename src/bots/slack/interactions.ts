import type { App, BlockAction, ButtonAction, MessageShortcut, RespondFn } from '@slack/bolt';
import { isEmuBotError } from '../../core/index.js';
import { actionIds, callbackIds, editModal, promptInput } from './blocks.js';
import { type SlackMessage, toConversation } from './conversation-reader.js';
import { startDrawings } from './drawings.js';
import { handleRequest } from './handle-request.js';
import { isAllowed, type SlackContext } from './slack-context.js';

const expired = 'These buttons have expired; please ask again with /imagine.';

/**
 * The buttons on status messages and drawn images, the edit modal and the "Ask Emu about this"
 * message shortcut. Their values name Redis records, not process memory, so they keep working
 * after a restart and in any bot process. Each is acknowledged before any work.
 */
export function registerInteractions(app: App, context: () => SlackContext): void {
  app.action<BlockAction<ButtonAction>>(actionIds.cancel, async ({ ack, body, action, respond }) => {
    await ack();
    const ctx = context();
    const mine = (await ctx.store.personJobs(body.user.id)).some((job) => job.jobId === action.value);
    if (!mine) return ephemeral(respond, 'Only the person who asked can cancel this.');
    try {
      await ctx.queue.cancel(action.value ?? '');
    } catch (error) {
      if (isEmuBotError(error) && error.code === 'JOB_NOT_FOUND')
        return ephemeral(respond, 'That request has already finished.');
      throw error;
    }
  });

  for (const actionId of [actionIds.regenerate, actionIds.variations]) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const ctx = context();
      const record = await ctx.store.drawing(action.value ?? '');
      if (record === undefined) return ephemeral(respond, expired);
      if (!isAllowed(ctx.config, body.team?.id, record.channel)) return;
      const variation = actionId === actionIds.variations;
      if (variation && record.fileId === undefined)
        return ephemeral(respond, 'That image is not posted yet.');
      await startDrawings(ctx, {
        teamId: body.team?.id,
        userId: body.user.id,
        record: variation ? { ...record, sourceFileId: record.fileId as string } : record,
        count: 1,
        seed: null,
      });
    });
  }

  app.action<BlockAction<ButtonAction>>(actionIds.edit, async ({ ack, body, action, respond, client }) => {
    await ack();
    const record = await context().store.drawing(action.value ?? '');
    if (record === undefined) return ephemeral(respond, expired);
    await client.views.open({
      trigger_id: body.trigger_id,
      view: editModal(action.value ?? '', record.prompt),
    });
  });

  app.view(callbackIds.editModal, async ({ ack, body, view }) => {
    const prompt = view.state.values[promptInput.block]?.[promptInput.action]?.value?.trim() ?? '';
    if (prompt === '') {
      await ack({ response_action: 'errors', errors: { [promptInput.block]: 'Please say what to draw.' } });
      return;
    }
    await ack();
    const ctx = context();
    const record = await ctx.store.drawing(view.private_metadata);
    if (record === undefined || !isAllowed(ctx.config, body.team?.id, record.channel)) return;
    const { sourceFileId: _, fileId: __, ...fromPrompt } = record;
    await startDrawings(ctx, {
      teamId: body.team?.id,
      userId: body.user.id,
      record: { ...fromPrompt, prompt },
      count: 1,
      seed: null,
    });
  });

  app.shortcut<MessageShortcut>(callbackIds.askShortcut, async ({ ack, shortcut, respond }) => {
    await ack();
    const ctx = context();
    const channel = shortcut.channel.id;
    const teamId = shortcut.team?.id;
    if (!isAllowed(ctx.config, teamId, channel))
      return ephemeral(respond, 'I am not available in this channel.');
    const message = shortcut.message as unknown as SlackMessage;
    const where = { teamId, channel };
    await handleRequest(ctx, {
      ...where,
      threadTs: message.thread_ts ?? shortcut.message_ts,
      userId: shortcut.user.id,
      what: 'a message',
      conversation: async () => toConversation([message], where, ctx.bot),
    });
  });
}

async function ephemeral(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}
