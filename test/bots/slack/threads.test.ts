import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/queue.js';
import type { SlackSimulation } from '../../helpers/slack-simulation/index.js';
import { pngFile, useSlackStack } from './harness.js';

const stack = useSlackStack();

let simulation: SlackSimulation;

async function setUp(overrides: Record<string, string> = {}) {
  ({ simulation } = await stack.setUp(overrides));
}

/** The bot's answer in a thread: a message it marked as an answer. */
function answerIn(threadTs: string) {
  return simulation.workspace
    .botReplies('C0GENERAL', threadTs)
    .find(
      (message) => (message.metadata as { event_type?: string } | undefined)?.event_type === 'emu_answer',
    );
}

describe('Slack mentions and threads (Socket Mode, real Bolt, queue, worker and ONNX engine)', () => {
  it('answers a mention with an image in the message thread, with the image downloaded with the bot token', async () => {
    await setUp();
    const sent = simulation.mention({
      user: 'U0ADA',
      channel: 'C0GENERAL',
      text: 'what is in this picture?',
      files: [await pngFile('red.png', { r: 255, g: 0, b: 0 })],
    });
    const acks = await sent.acks;
    expect(acks).toHaveLength(2);
    const answer = await eventually(() => answerIn(sent.message.ts), 20_000);
    expect(answer.thread_ts).toBe(sent.message.ts);
    expect(answer.text.length).toBeGreaterThan(0);
    expect(simulation.downloads).toEqual([expect.objectContaining({ authorized: true })]);
    // The status message became the answer: one reply in the thread, no second answer.
    expect(simulation.workspace.botReplies('C0GENERAL', sent.message.ts)).toHaveLength(1);
    expect(simulation.api.rateLimited).toEqual([]);
  });

  it('continues a thread it is part of, with the earlier image and answer as context', async () => {
    await setUp();
    const first = simulation.mention({
      user: 'U0ADA',
      channel: 'C0GENERAL',
      text: 'describe this',
      files: [await pngFile('blue.png', { r: 0, g: 0, b: 255 })],
    });
    await eventually(() => answerIn(first.message.ts), 20_000);
    const followUp = simulation.say({
      user: 'U0ADA',
      channel: 'C0GENERAL',
      threadTs: first.message.ts,
      text: 'and what colour is it?',
    });
    await followUp.acks;
    await eventually(
      () =>
        simulation.workspace
          .botReplies('C0GENERAL', first.message.ts)
          .filter((message) => message.metadata !== undefined).length === 2,
      20_000,
    );
    const historyRead = simulation.api.callsTo('conversations.replies').at(-1);
    expect(historyRead?.args['ts']).toBe(first.message.ts);
    // The follow-up's download is the earlier message's image, fetched again (URLs expire).
    expect(simulation.downloads).toHaveLength(2);
  });

  it('ignores thread messages where it was never mentioned', async () => {
    await setUp();
    const root = simulation.say({ user: 'U0ADA', channel: 'C0GENERAL', text: 'hello people' });
    await root.acks;
    const reply = simulation.say({
      user: 'U0BOB',
      channel: 'C0GENERAL',
      threadTs: root.message.ts,
      text: 'hi',
    });
    await reply.acks;
    // A later mention is answered; by then the earlier events would have been answered too.
    const mention = simulation.mention({ user: 'U0ADA', channel: 'C0GENERAL', text: 'now you' });
    await eventually(() => answerIn(mention.message.ts), 20_000);
    expect(simulation.workspace.botReplies('C0GENERAL', root.message.ts)).toEqual([]);
  });
});
