import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/index.js';
import { eventually } from '../../helpers/queue.js';
import type { SimulatedMessage, SlackSimulation } from '../../helpers/slack-simulation/index.js';
import { Gate, heldText, pngFile, streamingText, useSlackStack } from './harness.js';

const stack = useSlackStack();

let simulation: SlackSimulation;
let gate: Gate | undefined;
afterEach(() => {
  gate?.open();
});

async function setUp(overrides: Record<string, string> = {}, workerEngine?: Engine) {
  ({ simulation } = await stack.setUp(overrides, workerEngine));
}

const channel = 'C0GENERAL';

/** The bot's messages in a thread that it marked as (parts of) an answer. */
function answers(threadTs: string, where = channel): SimulatedMessage[] {
  return simulation.workspace
    .botReplies(where, threadTs)
    .filter(
      (message) => (message.metadata as { event_type?: string } | undefined)?.event_type === 'emu_answer',
    );
}

/** The newest ephemeral answer to a command, posted to its response URL. */
async function lastResponse(): Promise<string> {
  const response = await eventually(() => simulation.responses.at(-1) as { text?: string } | undefined);
  return response.text ?? '';
}

describe('Slack commands and the message shortcut (real Bolt, queue, worker and ONNX engine)', () => {
  it('answers "Ask Emu about this" about a message and its image, in that message thread', async () => {
    await setUp();
    const asked = simulation.say({
      user: 'U0ADA',
      channel,
      text: 'look at my drawing',
      files: [await pngFile('green.png', { r: 0, g: 200, b: 0 })],
    });
    await asked.acks;
    const ack = await simulation.shortcut('emu_ask_about_message', asked.message, 'U0BOB');
    expect(ack.envelopeId).toBeDefined();
    const [answer] = await eventually(
      () => answers(asked.message.ts).length === 1 && answers(asked.message.ts),
      20_000,
    );
    expect(answer?.thread_ts).toBe(asked.message.ts);
    expect(answer?.text.length).toBeGreaterThan(0);
    // The message's image was fetched with the bot token for the prompt.
    expect(simulation.downloads).toEqual([expect.objectContaining({ authorized: true })]);
  });

  it('/emu describe describes the newest image in the channel, in its thread', async () => {
    await setUp();
    const picture = simulation.say({
      user: 'U0ADA',
      channel,
      text: 'a photo',
      files: [await pngFile('red.png', { r: 255, g: 0, b: 0 })],
    });
    await picture.acks;
    const later = simulation.say({ user: 'U0BOB', channel, text: 'nice' });
    await later.acks;
    await simulation.command('/emu', 'describe', 'U0BOB', channel);
    const [answer] = await eventually(
      () => answers(picture.message.ts).length === 1 && answers(picture.message.ts),
      20_000,
    );
    // The reference's caption prompt: the answer continues its opening words.
    expect(answer?.text).toMatch(/^The image depicts a photo of/);
    expect(answers(later.message.ts)).toEqual([]);
  });

  it('/emu ask opens a thread under "asked: ..." and answers in it', async () => {
    await setUp();
    await simulation.command('/emu', 'ask what is a kangaroo?', 'U0ADA', channel);
    const root = await eventually(() =>
      simulation.workspace.messages.find(
        (message) => message.channel === channel && message.text.includes('asked: what is a kangaroo?'),
      ),
    );
    expect(root.text).toBe('<@U0ADA> asked: what is a kangaroo?');
    const [answer] = await eventually(() => answers(root.ts).length === 1 && answers(root.ts), 20_000);
    expect(answer?.thread_ts).toBe(root.ts);
  });

  it("/emu queue shows the person's places in line, the queue depth and the workers online", async () => {
    gate = new Gate();
    await setUp({ EMU_BOT_WORKER__BATCH_SIZE: '1' }, heldText(stack.engine, gate));
    const running = simulation.mention({ user: 'U0ADA', channel, text: 'first question' });
    await eventually(() => gate?.reached === 1, 20_000);
    const waiting = simulation.mention({ user: 'U0ADA', channel, text: 'second question' });
    await eventually(() =>
      simulation.workspace
        .botReplies(channel, waiting.message.ts)
        .some((message) => message.text.includes('number 1')),
    );
    await simulation.command('/emu', 'queue', 'U0ADA', channel);
    const text = await lastResponse();
    expect(text).toMatch(/You have 2 requests waiting or running/);
    expect(text).toMatch(/first question in <#C0GENERAL>: running now/);
    expect(text).toMatch(/second question in <#C0GENERAL>: number 1 in line/);
    expect(text).toMatch(/answers: 1 waiting, 1 worker online/);
    expect(text).toMatch(/drawings: 0 waiting, 1 worker online/);

    await simulation.command('/emu', 'queue', 'U0BOB', channel);
    await eventually(() => simulation.responses.length === 2);
    expect(await lastResponse()).toMatch(
      /^You have no requests waiting or running\.\n\n\*Queue\*\n• answers: 1 waiting/,
    );

    gate.open();
    await eventually(
      () => answers(running.message.ts).length === 1 && answers(waiting.message.ts).length === 1,
      20_000,
    );
  });
});

describe('Slack messages (real Bolt, queue, worker and ONNX engine)', () => {
  it('answers a direct message with slack.directMessages on', async () => {
    await setUp({ EMU_BOT_SLACK__DIRECT_MESSAGES: 'true' });
    const sent = simulation.say({ user: 'U0ADA', channel: 'D0ADA', text: 'hello in private' });
    await sent.acks;
    const [answer] = await eventually(
      () => answers(sent.message.ts, 'D0ADA').length === 1 && answers(sent.message.ts, 'D0ADA'),
      20_000,
    );
    expect(answer?.thread_ts).toBe(sent.message.ts);
  });

  it('leaves direct messages alone by default', async () => {
    await setUp();
    const direct = simulation.say({ user: 'U0ADA', channel: 'D0ADA', text: 'hello in private' });
    await direct.acks;
    const mention = simulation.mention({ user: 'U0ADA', channel, text: 'hello in public' });
    await eventually(() => answers(mention.message.ts).length === 1, 20_000);
    expect(simulation.workspace.botReplies('D0ADA', direct.message.ts)).toEqual([]);
  });

  it("ignores other bots' mentions and thread messages, delivered as real events", async () => {
    await setUp();
    const person = simulation.mention({ user: 'U0ADA', channel, text: 'start a thread' });
    await eventually(() => answers(person.message.ts).length === 1, 20_000);
    const top = simulation.otherBotMentions({ botId: 'B0OTHER', channel, text: 'answer me' });
    const inThread = simulation.otherBotMentions({
      botId: 'B0OTHER',
      channel,
      threadTs: person.message.ts,
      text: 'and me',
    });
    // Bolt received and acknowledged both events of each post.
    expect(await top.acks).toHaveLength(2);
    expect(await inThread.acks).toHaveLength(2);
    // A person's message in the same thread afterwards is answered: the bots' were not.
    const followUp = simulation.say({ user: 'U0ADA', channel, threadTs: person.message.ts, text: 'go on' });
    await followUp.acks;
    await eventually(() => answers(person.message.ts).length === 2, 20_000);
    expect(simulation.workspace.botReplies(channel, top.message.ts)).toEqual([]);
    expect(simulation.workspace.botReplies(channel, person.message.ts)).toHaveLength(2);
  });

  it('refuses a thread whose earlier messages hold a blocked word, and answers a clean one', async () => {
    await setUp({ EMU_BOT_MODERATION__BLOCKED_WORDS: '[forbidden]' });
    const blocked = simulation.say({ user: 'U0BOB', channel, text: 'here is a forbidden thing' });
    const clean = simulation.say({ user: 'U0BOB', channel, text: 'here is a harmless thing' });
    await Promise.all([blocked.acks, clean.acks]);
    const asks = [blocked, clean].map((root) =>
      simulation.mention({
        user: 'U0ADA',
        channel,
        threadTs: root.message.ts,
        text: 'what about the above?',
      }),
    );
    await eventually(() => answers(clean.message.ts).length === 1, 20_000);
    const refusal = await eventually(() =>
      simulation.workspace
        .botReplies(channel, blocked.message.ts)
        .find((message) => message.text.startsWith(':warning:')),
    );
    expect(refusal.metadata).toBeUndefined();
    expect(answers(blocked.message.ts)).toEqual([]);
    await Promise.all(asks.map((ask) => ask.acks));
  });

  it('streams the answer into the status message as it is written, and splits a long one', async () => {
    gate = new Gate();
    const long = 'kangaroos hop '.repeat(400);
    await setUp({}, streamingText(stack.engine, ['Streaming starts here. ', long], gate));
    const sent = simulation.mention({ user: 'U0ADA', channel, text: 'tell me a long story' });
    const status = await eventually(() => simulation.workspace.botReplies(channel, sent.message.ts)[0]);
    // The streamed text reached Slack while the job was still held running.
    await eventually(() => status.text.startsWith('Streaming starts here.'), 20_000);
    expect(answers(sent.message.ts)).toEqual([]);
    gate.open();
    const parts = await eventually(
      () => answers(sent.message.ts).length === 2 && answers(sent.message.ts),
      20_000,
    );
    expect(parts[0]?.ts).toBe(status.ts);
    expect(parts.every((part) => part.text.length <= 3900)).toBe(true);
    const whole = parts.map((part) => part.text).join(' ');
    expect(whole.replace(/\s+/g, ' ').trim()).toBe(
      `Streaming starts here. ${long}`.replace(/\s+/g, ' ').trim(),
    );
    const edits = simulation.api.callsTo('chat.update').filter((call) => call.args['ts'] === status.ts);
    const streamed = edits.findIndex(
      (call) => call.args['text']?.startsWith('Streaming starts here.') === true,
    );
    const final = edits.findIndex((call) => call.args['metadata'] !== undefined);
    expect(streamed).toBeGreaterThanOrEqual(0);
    expect(streamed).toBeLessThan(final);
  });
});
