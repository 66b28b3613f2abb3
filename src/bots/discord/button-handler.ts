import { type ButtonInteraction, MessageFlags, type ModalSubmitInteraction } from 'discord.js';
import { EmuBotError, isEmuBotError } from '../../core/index.js';
import type { JobSubmitter } from '../../queue/index.js';
import { type ButtonAction, editModal, parseCustomId, promptField } from './components.js';
import { recordImages, startDrawing } from './drawing-requests.js';
import type { DrawingRecord, DrawingStore } from './drawings.js';
import { interactionChannel, interactionReference } from './interaction-place.js';
import type { JobViews } from './job-views.js';
import type { DiscordReplies } from './replies.js';
import type { Requester } from './requester.js';

export interface ButtonParts {
  readonly requester: Requester;
  readonly drawings: DrawingStore;
  readonly views: JobViews;
  readonly replies: DiscordReplies;
  readonly queue: () => JobSubmitter;
}

const expired = new EmuBotError('JOB_NOT_FOUND', 'the drawing behind a button has expired', {
  userMessage: 'These buttons have expired. Please use /imagine again.',
});
const notYours = new EmuBotError('REQUEST_UNSUPPORTED', 'someone else tried to cancel a request', {
  userMessage: 'Only the person who asked can cancel this.',
});

/**
 * Buttons and the edit modal. Everything they need is in their custom id and in Redis (the
 * drawing's record), so they work after a bot restart and on any bot process.
 */
export class ButtonHandler {
  readonly #parts: ButtonParts;

  constructor(parts: ButtonParts) {
    this.#parts = parts;
  }

  async handle(interaction: ButtonInteraction | ModalSubmitInteraction): Promise<void> {
    const action = parseCustomId(interaction.customId);
    if (action === undefined) return;
    switch (action.kind) {
      case 'cancel-job':
        if (interaction.user.id !== action.userId) throw notYours;
        return this.#cancel(interaction, [action.jobId]);
      case 'cancel-drawing': {
        const record = await this.#record(action.drawingId);
        if (interaction.user.id !== record.userId) throw notYours;
        return this.#cancel(interaction, record.jobIds);
      }
      case 'edit': {
        if (!interaction.isButton()) return;
        const record = await this.#record(action.drawingId);
        await interaction.showModal(editModal(action.drawingId, record.prompt));
        return;
      }
      default:
        return this.#redraw(interaction, action);
    }
  }

  async #redraw(
    interaction: ButtonInteraction | ModalSubmitInteraction,
    action: ButtonAction,
  ): Promise<void> {
    await interaction.deferReply();
    const record = await this.#record('drawingId' in action ? action.drawingId : '');
    let prompt = record.prompt;
    let imageUrls = record.imageUrls;
    if (action.kind === 'vary') {
      // A variation starts from the posted image itself, as Discord serves it.
      const posted = interaction.message?.attachments.at(action.index);
      if (posted === undefined) throw expired;
      imageUrls = [posted.url];
      prompt = '';
    } else if (action.kind === 'edited' && interaction.isModalSubmit()) {
      prompt = interaction.fields.getTextInputValue(promptField).trim();
    }
    const problems = await startDrawing(this.#parts, {
      userId: interaction.user.id,
      userName: interaction.user.username,
      serverId: interaction.guildId,
      channel: interactionChannel(interaction),
      reference: interactionReference(interaction),
      prompt,
      images: recordImages(imageUrls),
      count: record.count,
      ...(record.steps === undefined ? {} : { steps: record.steps }),
      ...(record.guidanceScale === undefined ? {} : { guidanceScale: record.guidanceScale }),
    });
    if (problems.length > 0)
      await this.#parts.replies.whisper(interactionReference(interaction), `⚠️ ${problems.join('\n')}`);
  }

  async #cancel(
    interaction: ButtonInteraction | ModalSubmitInteraction,
    jobIds: readonly string[],
  ): Promise<void> {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    let cancelled = 0;
    for (const jobId of jobIds) {
      try {
        await this.#parts.queue().cancel(jobId);
        cancelled += 1;
      } catch (error) {
        if (!isEmuBotError(error, 'JOB_NOT_FOUND')) throw error;
      }
    }
    await interaction.editReply(cancelled > 0 ? 'Cancelled.' : 'That request has already finished.');
  }

  async #record(drawingId: string): Promise<DrawingRecord> {
    const record = await this.#parts.drawings.get(drawingId);
    if (record === undefined) throw expired;
    return record;
  }
}
