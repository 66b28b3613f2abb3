import { describe, expect, it } from 'vitest';
import { DiscordSimulation } from '../../helpers/discord-simulation/index.js';
import { eventually } from '../../helpers/queue.js';
import { answered, png, useDiscordStack } from './harness.js';

// Direct messages, replies to the bot, forum posts, streaming and long answers, and moderation of
// the whole conversation, end to end: the real discord.js against the simulation, a real Redis,
// the queue, a worker and the real engine on the fixture bundles.
const stack = useDiscordStack();

describe('Discord conversations', () => {
  it('answers direct messages when so configured, with the earlier messages as context', async () => {
    const { simulation } = await stack.setUp({ EMU_BOT_DISCORD__DIRECT_MESSAGES: 'true' });
    const direct = simulation.directChannel();
    const first = simulation.post({ content: 'my name is Ada', channelId: direct.id });
    const reply = await eventually(() => answered(simulation.botMessages(direct.id)[0]), 20_000);
    expect(reply.message_reference?.message_id).toBe(first.id);
    const asked = stack.engine.texts.length;
    simulation.post({ content: 'what is my name?', channelId: direct.id });
    await eventually(() => answered(simulation.botMessages(direct.id)[1]), 20_000);
    const followUp = stack.engine.texts[asked];
    expect(followUp?.prompt).toContain('my name is Ada');
    expect(followUp?.prompt).toContain('what is my name?');
  });

  it('ignores direct messages by default', async () => {
    const { simulation } = await stack.setUp();
    const direct = simulation.directChannel();
    simulation.post({ content: 'hello in private', channelId: direct.id });
    // Gateway events are handled in order: once the later mention is answered, the DM was seen.
    const mention = simulation.post({ content: 'hello in public', mention: true });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    await eventually(() => answered(simulation.botMessages(thread.id)[0]), 20_000);
    expect(
      simulation.store.channelMessages(direct.id).filter((m) => m.author.id === simulation.bot.id),
    ).toEqual([]);
    expect(stack.engine.texts.some((request) => request.prompt.includes('hello in private'))).toBe(false);
  });

  it('continues the conversation when someone replies to one of its answers', async () => {
    const { simulation } = await stack.setUp({ EMU_BOT_DISCORD__REPLY_IN: 'inline' });
    simulation.post({ content: 'remember the word pelican', mention: true });
    const answer = await eventually(() => answered(simulation.botMessages()[0]), 20_000);
    const asked = stack.engine.texts.length;
    // A reply without a mention of the bot.
    const reply = simulation.post({ content: 'which word was it?', replyTo: answer });
    const second = await eventually(() => answered(simulation.botMessages()[1]), 20_000);
    expect(second.message_reference?.message_id).toBe(reply.id);
    const request = stack.engine.texts[asked];
    expect(request?.prompt).toContain('remember the word pelican');
    expect(request?.prompt).toContain('which word was it?');
  });

  it('answers a mention in a forum post, with the post and its image as context', async () => {
    const { simulation } = await stack.setUp();
    const image = simulation.upload('photo.png', await png({ r: 10, g: 200, b: 10 }), 'image/png');
    const { thread } = simulation.forumPost({
      title: 'Help with a photo',
      content: 'here is my photo',
      attachments: [image],
    });
    const mention = simulation.post({ content: 'what is in it?', mention: true, channelId: thread.id });
    const answer = await eventually(() => answered(simulation.botMessages(thread.id)[0]), 20_000);
    expect(answer.message_reference?.message_id).toBe(mention.id);
    // No thread of its own inside the post.
    expect(simulation.store.channels.has(mention.id)).toBe(false);
    const request = stack.engine.texts.at(-1);
    expect(request?.prompt).toContain('here is my photo');
    expect(request?.images).toHaveLength(1);
  });

  it('streams the answer into the waiting message, then splits it past 2,000 characters', async () => {
    const { simulation } = await stack.setUp();
    const tail = ` ${'and so on '.repeat(450)}the end.`;
    const script = stack.engine.scriptAnswer(['Once upon a time', ' there was an emu'], tail);
    const mention = simulation.post({ content: 'tell me a long story', mention: true });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    const waiting = await eventually(() => {
      const message = simulation.botMessages(thread.id)[0];
      return message?.content.endsWith('Once upon a time ▌') ? message : undefined;
    }, 20_000);
    // The cancel button stays while the answer grows.
    expect(DiscordSimulation.buttons(waiting)[0]).toMatch(/^emu:cancel:/);
    script.advance();
    await eventually(() => waiting.content.endsWith('Once upon a time there was an emu ▌'), 20_000);
    script.advance();
    await eventually(() => simulation.botMessages(thread.id).length === 3 && answered(waiting), 20_000);
    const messages = simulation.botMessages(thread.id);
    for (const message of messages) expect(message.content.length).toBeLessThanOrEqual(2000);
    const whole = messages.map((message) => message.content).join(' ');
    const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
    expect(squeeze(whole).endsWith(squeeze(`Once upon a time there was an emu${tail}`))).toBe(true);
    // The first message was edited as the text arrived, then became the answer's first part.
    const streamed = waiting.history.filter((content) => content.endsWith('▌'));
    expect(streamed.length).toBeGreaterThanOrEqual(2);
    expect(waiting.history.at(-1)).toBe(waiting.content);
    expect(waiting.components).toEqual([]);
  });

  it('says a cancelled /ask to the person alone, and removes the public reply', async () => {
    const { simulation } = await stack.setUp();
    stack.engine.scriptAnswer(['Let me think'], ' more.');
    const interaction = simulation.command('ask', [{ name: 'question', type: 3, value: 'a long question' }]);
    const streaming = await eventually(() => {
      const original = interaction.original;
      return original?.content.endsWith('Let me think ▌') ? original : undefined;
    }, 20_000);
    const cancel = simulation.click(streaming, DiscordSimulation.buttons(streaming)[0] as string);
    await eventually(() => cancel.original?.content === 'Cancelled.', 20_000);
    const whisper = await eventually(
      () => interaction.followUps.find((message) => (message.flags & 64) !== 0),
      20_000,
    );
    expect(whisper.content).toMatch(/^⚠️ .*cancel/i);
    await eventually(() => interaction.originalDeleted === true);
    expect(simulation.store.messages.has(streaming.id)).toBe(false);
  });

  it('refuses when an earlier message of the conversation has a blocked word', async () => {
    const { simulation } = await stack.setUp({ EMU_BOT_MODERATION__BLOCKED_WORDS: '[forbidden]' });
    const earlier = simulation.post({ content: 'something forbidden here' });
    const asked = stack.engine.texts.length;
    const mention = simulation.post({
      content: 'what do you think of this?',
      mention: true,
      replyTo: earlier,
    });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    const refusal = await eventually(() => answered(simulation.botMessages(thread.id)[0]), 20_000);
    expect(refusal.content).toMatch(/^⚠️/);
    expect(stack.engine.texts).toHaveLength(asked);
  });
});
