import { describe, expect, it } from 'vitest';
import { DiscordSimulation } from '../../helpers/discord-simulation/index.js';
import { eventually } from '../../helpers/queue.js';
import { answered, png, useDiscordStack } from './harness.js';

const stack = useDiscordStack();

describe('Discord mentions and threads', () => {
  it('answers a mention with an image in a thread started from it, showing its place in line first', async () => {
    // One job at a time, and a first request that runs until released: the second waits in line.
    const { simulation } = await stack.setUp({ EMU_BOT_WORKER__BATCH_SIZE: '1' });
    const first = stack.engine.scriptAnswer(['Still thinking'], '.');
    const busy = simulation.post({ content: 'keep the worker busy', mention: true });
    await eventually(() => simulation.botMessages(busy.id)[0]?.content.endsWith('▌'), 20_000);
    const image = simulation.upload('red.png', await png({ r: 220, g: 20, b: 20 }), 'image/png');
    const mention = simulation.post({
      content: 'what is in this picture?',
      mention: true,
      attachments: [image],
    });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    expect(thread).toMatchObject({ type: 11, parent_id: simulation.channel.id });
    const waiting = await eventually(() => simulation.botMessages(thread.id)[0]);
    expect(waiting.content).toBe('⏳ Next in line…');
    expect(DiscordSimulation.buttons(waiting)[0]).toMatch(/^emu:cancel:/);
    first.advance();
    const answer = await eventually(() => answered(simulation.botMessages(thread.id)[0]), 20_000);
    expect(answer.content.length).toBeGreaterThan(0);
    expect(answer.components).toEqual([]);
    // The thread is the acknowledgement; the waiting message showed the place in line, then the answer.
    expect(thread.createdAt).toBeLessThanOrEqual(answer.historyAt[0] as number);
    expect(answer.history[0]).toBe('⏳ Next in line…');
    expect(answer.history.at(-1)).toBe(answer.content);
    expect(simulation.botMessages(thread.id)).toHaveLength(1);
  });

  it('continues in the thread: a follow-up without a mention sees the earlier image', async () => {
    const { simulation } = await stack.setUp();
    const image = simulation.upload('red.png', await png({ r: 220, g: 20, b: 20 }), 'image/png');
    const mention = simulation.post({ content: 'look at this', mention: true, attachments: [image] });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    await eventually(() => answered(simulation.botMessages(thread.id)[0]), 20_000);
    const asked = stack.engine.texts.length;
    simulation.post({ content: 'and what colour is it?', channelId: thread.id });
    await eventually(() => answered(simulation.botMessages(thread.id)[1]), 20_000);
    const followUp = stack.engine.texts[asked];
    expect(followUp?.images).toHaveLength(1);
    expect(followUp?.prompt).toContain('look at this');
    expect(followUp?.prompt).toContain('and what colour is it?');
  });

  it('edits the waiting message posted before a bot restart, instead of posting another', async () => {
    const { simulation, config } = await stack.setUp();
    const script = stack.engine.scriptAnswer(['Working on it'], ' and done.');
    const mention = simulation.post({ content: 'a question across a restart', mention: true });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    const waiting = await eventually(() => {
      const message = simulation.botMessages(thread.id)[0];
      return message?.content.endsWith('Working on it ▌') ? message : undefined;
    }, 20_000);
    await stack.restartBot(config);
    script.advance();
    await eventually(() => answered(waiting), 20_000);
    expect(waiting.content).toContain('Working on it and done.');
    expect(simulation.botMessages(thread.id)).toHaveLength(1);
  });

  it('answers inline as a reply when so configured, and ignores other bots and itself', async () => {
    const { simulation } = await stack.setUp({ EMU_BOT_DISCORD__REPLY_IN: 'inline' });
    const robot = simulation.store.addUser('robot', true);
    simulation.post({ content: 'bots talking', mention: true, author: robot });
    const mention = simulation.post({ content: 'hello there', mention: true });
    const reply = await eventually(() => answered(simulation.botMessages()[0]), 20_000);
    expect(reply.message_reference?.message_id).toBe(mention.id);
    expect(simulation.store.channels.has(mention.id)).toBe(false);
    expect(simulation.botMessages()).toHaveLength(1);
    expect(stack.engine.texts.some((request) => request.prompt.includes('bots talking'))).toBe(false);
  });

  it('says politely, to the person alone, which attachment it skipped, and still answers', async () => {
    const { simulation } = await stack.setUp();
    const broken = simulation.upload('broken.png', new TextEncoder().encode('not a picture'), 'image/png');
    const interaction = simulation.command(
      'ask',
      [
        { name: 'question', type: 3, value: 'what do you think?' },
        { name: 'file', type: 11, value: broken.id },
      ],
      { attachments: [broken] },
    );
    const whisper = await eventually(() =>
      interaction.followUps.find((message) => (message.flags & 64) !== 0),
    );
    expect(whisper.content).toMatch(/^⚠️ I skipped broken\.png: /);
    expect(interaction.callbacks).toEqual([5]);
    const original = await eventually(() => answered(interaction.original), 20_000);
    expect(original.content.length).toBeGreaterThan(0);
  });

  it('refuses politely and privately where it is not allowed', async () => {
    const { simulation } = await stack.setUp({ EMU_BOT_DISCORD__ALLOWED_CHANNELS: '["1"]' });
    simulation.post({ content: 'anyone?', mention: true });
    // Gateway events are handled in order: once the command is refused, the mention was seen.
    const interaction = simulation.command('ask', [{ name: 'question', type: 3, value: 'hi' }]);
    await eventually(() => interaction.original);
    expect(interaction.callbacks).toEqual([4]);
    expect(interaction.original?.flags).toBe(64);
    expect(interaction.original?.content).toMatch(/not enabled here/);
    expect(simulation.botMessages()).toHaveLength(0);
  });

  it('answers "Ask Emu" about a message and its attachment', async () => {
    const { simulation } = await stack.setUp();
    const image = simulation.upload('blue.png', await png({ r: 0, g: 0, b: 230 }), 'image/png');
    const target = simulation.post({ content: 'my holiday photo', attachments: [image] });
    const interaction = simulation.contextMenu('Ask Emu', target);
    const original = await eventually(() => answered(interaction.original), 20_000);
    expect(original.content.length).toBeGreaterThan(0);
    expect(stack.engine.texts.at(-1)?.images).toHaveLength(1);
    expect(stack.engine.texts.at(-1)?.prompt).toContain('my holiday photo');
  });
});
