import {
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type RepliableInteraction,
} from 'discord.js';
import type { Logger } from 'pino';
import { defaultIntent, type Intent } from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { EmuBotError, toEmuBotError } from '../../core/index.js';
import { isAllowed } from './access.js';
import type { ButtonHandler } from './button-handler.js';
import { askEmuCommand } from './commands.js';
import { cancelRow } from './components.js';
import { toAttachment, toChatMessage } from './conversation.js';
import { type DrawingAsk, startDrawing } from './drawing-requests.js';
import type { DrawingStore } from './drawings.js';
import { interactionChannel, interactionPlace, interactionReference } from './interaction-place.js';
import type { JobViews } from './job-views.js';
import type { QueueStatusReader } from './queue-status.js';
import type { DiscordReplies } from './replies.js';
import type { Requester } from './requester.js';
import { queuedText } from './status-text.js';

export interface InteractionParts {
  readonly settings: Config['discord'];
  readonly requester: Requester;
  readonly drawings: DrawingStore;
  readonly views: JobViews;
  readonly replies: DiscordReplies;
  readonly status: QueueStatusReader;
  readonly buttons: ButtonHandler;
  readonly logger: Logger;
}

const notHere = 'I am not enabled here. Please ask in a channel where Emu is allowed.';

/**
 * Slash commands, the "Ask Emu" context menu, buttons and modals. Every interaction is
 * acknowledged first (deferred within Discord's 3 seconds), then the work is queued; errors are
 * shown only to the person, with what to do.
 */
export class InteractionHandler {
  readonly #parts: InteractionParts;

  constructor(parts: InteractionParts) {
    this.#parts = parts;
  }

  async handle(interaction: Interaction): Promise<void> {
    if (!interaction.isRepliable()) return;
    if (!isAllowed(this.#parts.settings, interactionPlace(interaction))) {
      await interaction.reply({ content: notHere, flags: MessageFlags.Ephemeral });
      return;
    }
    try {
      if (interaction.isChatInputCommand()) await this.#command(interaction);
      else if (interaction.isMessageContextMenuCommand()) await this.#askAbout(interaction);
      else if (interaction.isButton() || interaction.isModalSubmit())
        await this.#parts.buttons.handle(interaction);
    } catch (error) {
      await this.fail(interaction, toEmuBotError(error));
    }
  }

  /** Shows an error to the person alone: the public deferred reply, if any, is removed. */
  async fail(interaction: RepliableInteraction, error: EmuBotError): Promise<void> {
    if (error.blame === 'system') this.#parts.logger.warn({ err: error }, 'Discord interaction failed');
    const content = `⚠️ ${error.userMessage}`;
    try {
      if (!interaction.deferred && !interaction.replied) {
        await interaction.reply({ content, flags: MessageFlags.Ephemeral });
        return;
      }
      if (!interaction.ephemeral) await interaction.deleteReply().catch(() => undefined);
      await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
    } catch (reportError) {
      this.#parts.logger.warn({ err: reportError }, 'could not tell the person about an error');
    }
  }

  async #command(interaction: ChatInputCommandInteraction): Promise<void> {
    const { options } = interaction;
    if (interaction.commandName === 'queue') {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.editReply(await this.#parts.status.describe(interaction.user.id));
      return;
    }
    await interaction.deferReply();
    const file = (name: string) => options.getAttachment(name);
    switch (interaction.commandName) {
      case 'imagine': {
        const image = file('image');
        return this.#draw(interaction, {
          prompt: options.getString('prompt', true),
          images: image === null ? [] : [image],
          count: options.getInteger('count') ?? 1,
          seed: options.getInteger('seed'),
          steps: options.getInteger('steps'),
          guidanceScale: options.getNumber('guidance'),
        });
      }
      case 'blend': {
        const images = ['image1', 'image2', 'image3', 'image4'].map(file).filter((image) => image !== null);
        return this.#draw(interaction, { prompt: options.getString('prompt') ?? '', images, count: 1 });
      }
      case 'describe':
        return this.#ask(interaction, '', [options.getAttachment('file', true)], 'describe');
      case 'ask': {
        const attachment = file('file');
        return this.#ask(
          interaction,
          options.getString('question', true),
          attachment === null ? [] : [attachment],
          'answer',
        );
      }
      default:
        throw new EmuBotError('REQUEST_UNSUPPORTED', `unknown command /${interaction.commandName}`, {
          userMessage: 'I do not know that command; it may be from an older version of me.',
        });
    }
  }

  async #draw(
    interaction: ChatInputCommandInteraction,
    ask: Pick<DrawingAsk, 'prompt' | 'count'> & {
      images: ReadonlyArray<NonNullable<ReturnType<ChatInputCommandInteraction['options']['getAttachment']>>>;
      seed?: number | null;
      steps?: number | null;
      guidanceScale?: number | null;
    },
  ): Promise<void> {
    const problems = await startDrawing(this.#parts, {
      userId: interaction.user.id,
      userName: interaction.user.username,
      serverId: interaction.guildId,
      channel: interactionChannel(interaction),
      reference: interactionReference(interaction),
      prompt: ask.prompt,
      images: ask.images.map(toAttachment),
      count: ask.count,
      ...(ask.seed == null ? {} : { seed: ask.seed }),
      ...(ask.steps == null ? {} : { steps: ask.steps }),
      ...(ask.guidanceScale == null ? {} : { guidanceScale: ask.guidanceScale }),
    });
    await this.#whisper(interaction, problems);
  }

  async #ask(
    interaction: RepliableInteraction,
    question: string,
    files: ReadonlyArray<Parameters<typeof toAttachment>[0]>,
    intent: Intent,
  ): Promise<void> {
    const conversation = {
      platform: 'discord' as const,
      ...(interaction.guildId === null ? {} : { serverId: interaction.guildId }),
      channel: interactionChannel(interaction),
      messages: [
        {
          id: interaction.id,
          author: { id: interaction.user.id, name: interaction.user.username, role: 'person' as const },
          text: question,
          attachments: files.map(toAttachment),
          sentAt: interaction.createdTimestamp,
        },
      ],
    };
    await this.#submitText(interaction, conversation, intent);
  }

  /** "Ask Emu" on a message: its text and attachments, asked about by the person who clicked. */
  async #askAbout(interaction: MessageContextMenuCommandInteraction): Promise<void> {
    if (interaction.commandName !== askEmuCommand) return;
    await interaction.deferReply();
    const target = toChatMessage(interaction.targetMessage, interaction.client.user.id);
    const message = {
      ...target,
      author: { id: interaction.user.id, name: interaction.user.username, role: 'person' as const },
    };
    const conversation = {
      platform: 'discord' as const,
      ...(interaction.guildId === null ? {} : { serverId: interaction.guildId }),
      channel: interactionChannel(interaction),
      messages: [message],
    };
    await this.#submitText(interaction, conversation, defaultIntent(conversation));
  }

  async #submitText(
    interaction: RepliableInteraction,
    conversation: Parameters<Requester['submit']>[0]['conversation'],
    intent: Intent,
  ): Promise<void> {
    const reference = interactionReference(interaction);
    const { jobs, problems } = await this.#parts.requester.submit({
      conversation,
      intent,
      userId: interaction.user.id,
      reference,
    });
    for (const job of jobs) {
      this.#parts.views.track(job.jobId, reference, {
        content: queuedText(job.position, job.estimatedWaitMs),
        components: cancelRow({ jobId: job.jobId, userId: interaction.user.id }),
      });
    }
    await this.#whisper(interaction, problems);
  }

  /** Attachments left out: said to the person alone, while the rest is answered. */
  async #whisper(interaction: RepliableInteraction, problems: readonly string[]): Promise<void> {
    if (problems.length === 0) return;
    await this.#parts.replies.whisper(interactionReference(interaction), `⚠️ ${problems.join('\n')}`);
  }
}
