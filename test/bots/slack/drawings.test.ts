import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/queue.js';
import type { SimulatedMessage, SlackSimulation } from '../../helpers/slack-simulation/index.js';
import { useSlackStack } from './harness.js';

// Image e2e tests: the real ONNX engine draws with the tiny-pretrain fixture bundle.
const stack = useSlackStack();

let simulation: SlackSimulation;

async function setUp() {
  ({ simulation } = await stack.setUp());
}

const channel = 'C0ART';

/** The messages with drawing buttons in a thread: one per finished image. */
function results(threadTs: string): SimulatedMessage[] {
  return simulation.workspace
    .botReplies(channel, threadTs)
    .filter((message) => JSON.stringify(message.blocks ?? []).includes('emu_regenerate'));
}

function uploads(threadTs: string): SimulatedMessage[] {
  return simulation.workspace
    .botReplies(channel, threadTs)
    .filter((message) => (message.files?.length ?? 0) > 0);
}

async function imagine(text: string): Promise<string> {
  const ack = await simulation.command('/imagine', text, 'U0ADA', channel);
  expect(ack.envelopeId).toBeDefined();
  const root = await eventually(() =>
    simulation.workspace.messages.find(
      (message) => message.channel === channel && message.thread_ts === undefined,
    ),
  );
  return root.ts;
}

describe('Slack drawings (/imagine, buttons, edit modal)', () => {
  it('/imagine uploads PNGs into a thread, with the count, seed and steps asked for', async () => {
    await setUp();
    const threadTs = await imagine('a red circle count=2 seed=7 steps=3 guidance=5');
    await eventually(() => results(threadTs).length === 2, 20_000);
    const files = uploads(threadTs).flatMap((message) => message.files ?? []);
    expect(files).toHaveLength(2);
    for (const id of files) {
      const file = simulation.workspace.files.get(id);
      const metadata = await sharp(Buffer.from(file?.bytes ?? [])).metadata();
      expect(metadata.format).toBe('png');
    }
    const asked = stack.engine.drawings.slice(-2).map((request) => request.settings);
    expect(asked.map((settings) => settings.seed).sort()).toEqual([7, 8]);
    expect(asked.every((settings) => settings.steps === 3 && settings.guidanceScale === 5)).toBe(true);
    expect(stack.engine.drawings.at(-1)?.prompt).toBe('a red circle');
    expect(simulation.api.rateLimited).toEqual([]);
  });

  it('answers a malformed /imagine privately with the usage', async () => {
    await setUp();
    await simulation.command('/imagine', 'a cat count=9', 'U0ADA', channel);
    const response = await eventually(() => simulation.responses.at(-1) as { text?: string } | undefined);
    expect(response.text).toMatch(/Count must be a whole number from 1 to 4/);
  });

  it('regenerates, draws variations of the posted image and reruns an edited prompt, also after a restart', async () => {
    await setUp();
    const threadTs = await imagine('a blue square seed=1');
    const [first] = await eventually(() => results(threadTs).length === 1 && results(threadTs), 20_000);
    if (first === undefined) throw new Error('no result');

    // A restart between the image and the clicks: the buttons' state lives in Redis.
    await stack.restartBot();

    await simulation.click(first, 'emu_regenerate', 'U0BOB');
    await eventually(() => results(threadTs).length === 2, 20_000);
    expect(stack.engine.drawings.at(-1)?.prompt).toBe('a blue square');

    await simulation.click(first, 'emu_variations', 'U0BOB');
    await eventually(() => results(threadTs).length === 3, 20_000);
    // A variation is drawn from the posted image alone: one image, no words.
    expect(stack.engine.drawings.at(-1)?.images).toHaveLength(1);
    expect(simulation.downloads.at(-1)?.authorized).toBe(true);

    await simulation.click(first, 'emu_edit', 'U0BOB');
    await eventually(() => simulation.api.callsTo('views.open').length === 1);
    await simulation.submitView(
      { emu_prompt: { emu_prompt_value: { type: 'plain_text_input', value: 'a green star' } } },
      'U0BOB',
    );
    await eventually(() => results(threadTs).length === 4, 20_000);
    expect(stack.engine.drawings.at(-1)?.prompt).toBe('a green star');
  });

  it('does not rerun an edited prompt in a channel the allow-list no longer serves', async () => {
    await setUp();
    const threadTs = await imagine('a yellow moon seed=3');
    const [first] = await eventually(() => results(threadTs).length === 1 && results(threadTs), 20_000);
    if (first === undefined) throw new Error('no result');
    // Restarted with the same Redis records, serving another channel only.
    await stack.restartBot({ EMU_BOT_SLACK__ALLOWED_CHANNELS: '[C0OTHER]' });
    await simulation.click(first, 'emu_edit', 'U0BOB');
    await eventually(() => simulation.api.callsTo('views.open').length === 1);
    await simulation.submitView(
      { emu_prompt: { emu_prompt_value: { type: 'plain_text_input', value: 'a purple sun' } } },
      'U0BOB',
    );
    // A drawing asked for afterwards in the served channel goes through the whole way.
    await simulation.command('/imagine', 'a tiny dot', 'U0ADA', 'C0OTHER');
    await eventually(() => stack.engine.drawings.at(-1)?.prompt === 'a tiny dot', 20_000);
    expect(stack.engine.drawings.map((request) => request.prompt)).not.toContain('a purple sun');
    expect(results(threadTs)).toHaveLength(1);
  });
});
