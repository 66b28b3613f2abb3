import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DiscordSimulation,
  type SimInteraction,
  type SimMessage,
} from '../../helpers/discord-simulation/index.js';
import { eventually } from '../../helpers/queue.js';
import { png, useDiscordStack } from './harness.js';

// Drawings are made by the real ONNX engine with the tiny-pretrain fixture's random image decoder.
const stack = useDiscordStack();

/** The interaction's reply once the drawing is posted (files, or an error line). */
const posted = (interaction: SimInteraction) => {
  const original = interaction.original;
  return original !== undefined && (original.attachments.length > 0 || original.content.startsWith('⚠️'))
    ? original
    : undefined;
};

async function pngSizes(message: SimMessage, simulation: DiscordSimulation) {
  return Promise.all(
    message.attachments.map(async (attachment) => {
      const file = simulation.store.files.get(new URL(attachment.url).pathname.slice('/cdn'.length));
      return (await sharp(Buffer.from(file?.bytes ?? [])).metadata()).format;
    }),
  );
}

describe('Discord drawings', () => {
  it('/imagine posts the count of PNGs together, with regenerate, variation and edit buttons', async () => {
    const { simulation } = await stack.setUp();
    const interaction = simulation.command('imagine', [
      { name: 'prompt', type: 3, value: 'a red circle' },
      { name: 'count', type: 4, value: 2 },
      { name: 'seed', type: 4, value: 7 },
    ]);
    const message = await eventually(() => posted(interaction), 20_000);
    expect(interaction.callbacks).toEqual([5]);
    expect(await pngSizes(message, simulation)).toEqual(['png', 'png']);
    expect(message.content).toContain('a red circle');
    const buttons = DiscordSimulation.buttons(message);
    expect(buttons.map((id) => id.split(':')[1])).toEqual(['again', 'edit', 'vary', 'vary']);
    expect(stack.engine.drawings.slice(-2).map((request) => request.settings.seed)).toEqual([7, 8]);
    // Drawn for real: different noise seeds give different images.
    const [one, two] = message.attachments.map((attachment) =>
      simulation.store.files.get(new URL(attachment.url).pathname.slice('/cdn'.length)),
    );
    expect(Buffer.from(one?.bytes ?? []).equals(Buffer.from(two?.bytes ?? []))).toBe(false);
  });

  it('posts a flagged drawing blurred, behind a spoiler, with moderation.flaggedImages: blur', async () => {
    const { simulation } = await stack.setUp({ EMU_BOT_MODERATION__FLAGGED_IMAGES: 'blur' });
    stack.engine.flagDrawings(true);
    const interaction = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'a sharp edge' }]);
    const message = await eventually(() => posted(interaction), 20_000);
    expect(message.attachments.map((attachment) => attachment.filename)).toEqual(['SPOILER_emu-1.png']);
    expect(message.attachments[0]?.description).toMatch(/^Blurred/);
    expect(message.content).toMatch(/blurred/);
    expect(await pngSizes(message, simulation)).toEqual(['png']);
  });

  it('refuses a flagged drawing by default, saying so to the person alone', async () => {
    const { simulation } = await stack.setUp();
    stack.engine.flagDrawings(true);
    const interaction = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'a sharp edge' }]);
    const whisper = await eventually(
      () => interaction.followUps.find((message) => (message.flags & 64) !== 0),
      20_000,
    );
    expect(whisper.content).toMatch(/^⚠️ The safety checker flagged/);
    await eventually(() => interaction.originalDeleted === true);
    expect(simulation.botMessages().filter((other) => other.attachments.length > 0)).toEqual([]);
  });

  it('/blend with two images posts a PNG drawn from both', async () => {
    const { simulation } = await stack.setUp();
    const first = simulation.upload('a.png', await png({ r: 250, g: 0, b: 0 }), 'image/png');
    const second = simulation.upload('b.png', await png({ r: 0, g: 0, b: 250 }), 'image/png');
    const interaction = simulation.command(
      'blend',
      [
        { name: 'image1', type: 11, value: first.id },
        { name: 'image2', type: 11, value: second.id },
      ],
      { attachments: [first, second] },
    );
    const message = await eventually(() => posted(interaction), 20_000);
    expect(await pngSizes(message, simulation)).toEqual(['png']);
    expect(stack.engine.drawings.at(-1)?.images).toHaveLength(2);
  });

  it('shows the place in line with a cancel button, and cancels a running drawing', async () => {
    const { simulation } = await stack.setUp();
    stack.engine.hold();
    const interaction = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'a slow drawing' }]);
    const waiting = await eventually(() => {
      const original = interaction.original;
      return original !== undefined && DiscordSimulation.buttons(original)[0]?.startsWith('emu:cancel:')
        ? original
        : undefined;
    });
    const cancel = simulation.click(waiting, DiscordSimulation.buttons(waiting)[0] as string);
    await eventually(() => cancel.original?.content === 'Cancelled.');
    // The failure is said to the person alone, and the public reply that showed the job goes.
    const whisper = await eventually(() =>
      interaction.followUps.find((message) => (message.flags & 64) !== 0),
    );
    expect(whisper.content).toMatch(/^⚠️ .*cancel/i);
    await eventually(() => interaction.originalDeleted === true);
    expect(simulation.store.messages.has(waiting.id)).toBe(false);
    expect(simulation.botMessages().some((message) => message.content.startsWith('⚠️'))).toBe(false);
  });

  it('delivers once through a gateway disconnect during the job', async () => {
    const { simulation } = await stack.setUp();
    stack.engine.hold();
    const interaction = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'a blue square' }]);
    await eventually(() => interaction.original?.content.startsWith('🎨'));
    simulation.gateway.drop();
    stack.engine.release();
    const message = await eventually(() => posted(interaction), 20_000);
    await eventually(() => simulation.gateway.counters.resumes === 1);
    expect(message.attachments).toHaveLength(1);
    // The final edit happened once, and nothing else was posted with the image.
    expect(message.history.filter((content) => content === message.content)).toHaveLength(1);
    expect(simulation.botMessages().filter((other) => other.attachments.length > 0)).toHaveLength(1);
  });

  it('posts in the channel, mentioning the person, when the interaction token has expired', async () => {
    const { simulation } = await stack.setUp();
    stack.engine.hold();
    const interaction = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'a late drawing' }]);
    await eventually(() => interaction.original?.content.startsWith('🎨'));
    interaction.expired = true;
    stack.engine.release();
    const late = await eventually(
      () => simulation.botMessages().find((message) => message.attachments.length > 0),
      20_000,
    );
    expect(late.content.startsWith(`<@${simulation.person.id}>`)).toBe(true);
    expect(DiscordSimulation.buttons(late)[0]).toMatch(/^emu:again:/);
  });

  it('keeps its buttons working after a bot restart: regenerate, variation, edit the prompt', async () => {
    const { simulation, config } = await stack.setUp();
    const interaction = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'a green tree' }]);
    const message = await eventually(() => posted(interaction), 20_000);
    const [again, edit, vary] = DiscordSimulation.buttons(message) as [string, string, string];
    await stack.restartBot(config);

    const regenerated = simulation.click(message, again);
    await eventually(() => posted(regenerated), 20_000);
    expect(stack.engine.drawings.at(-1)?.prompt).toBe('a green tree');

    const variation = simulation.click(message, vary);
    await eventually(() => posted(variation), 20_000);
    expect(stack.engine.drawings.at(-1)?.images).toHaveLength(1);

    const editing = simulation.click(message, edit);
    const modal = await eventually(() => editing.modal as { custom_id: string } | undefined);
    const edited = simulation.submitModal(modal.custom_id, { prompt: 'a green tree at night' }, { message });
    await eventually(() => posted(edited), 20_000);
    expect(stack.engine.drawings.at(-1)?.prompt).toBe('a green tree at night');
  });

  it("/queue lists the person's jobs, the queue depth and the workers online", async () => {
    // One job at a time, so that the second waits in line while the first runs.
    const { simulation } = await stack.setUp({ EMU_BOT_WORKER__BATCH_SIZE: '1' });
    stack.engine.hold();
    simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'first' }]);
    const second = simulation.command('imagine', [{ name: 'prompt', type: 3, value: 'second' }]);
    await eventually(() => second.original?.content.startsWith('⏳'));
    const status = simulation.command('queue');
    const reply = await eventually(() =>
      status.original?.content.startsWith('Your') ? status.original : undefined,
    );
    expect(status.original?.flags).toBe(64);
    expect(reply.content).toMatch(/running now/);
    expect(reply.content).toMatch(/drawings \(pretrain\): Next in line/);
    expect(reply.content).toMatch(/drawings \(pretrain\): 1 waiting, 1 worker online/);
  });
});
