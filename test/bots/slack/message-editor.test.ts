import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import type { EditRate } from '../../../src/bots/slack/index.js';
import { MessageEditor } from '../../../src/bots/slack/message-editor.js';
import {
  type SimulationOptions,
  SlackSimulation,
  simulatedIds,
} from '../../helpers/slack-simulation/index.js';
import { logger } from './harness.js';

let simulation: SlackSimulation;
let editor: MessageEditor | undefined;
afterEach(async () => {
  editor?.close();
  await simulation?.stop();
});

const channel = 'C0BUSY';

/** The real Bolt web client (as the adapter configures it) and an editor over it. */
async function setUp(options: SimulationOptions, rate: EditRate) {
  simulation = await SlackSimulation.start(options);
  const client = new webApi.WebClient(simulatedIds.botToken, {
    slackApiUrl: simulation.apiUrl,
    retryConfig: { retries: 2, factor: 2, minTimeout: 50 },
    logger: {
      debug() {},
      info() {},
      warn() {},
      error() {},
      setLevel() {},
      getLevel: () => 'error',
      setName() {},
    } as never,
  });
  editor = new MessageEditor(client, 0, logger, rate);
  const posted = await Promise.all(
    Array.from({ length: 12 }, async (_, index) => {
      const answer = await client.chat.postMessage({ channel, text: `status ${index}` });
      return answer.ts as string;
    }),
  );
  return { client, editor, posted };
}

/** The texts chat.update set on one message, in the order Slack accepted them. */
function acceptedTexts(ts: string): string[] {
  const limited = new Set(simulation.api.rateLimited);
  return simulation.api
    .callsTo('chat.update')
    .filter((call) => call.args['ts'] === ts && !limited.has(call))
    .map((call) => call.args['text'] ?? '');
}

function expectInOrder(texts: readonly string[], index: number): void {
  const order = [`progress ${index}`, `more ${index}`, `answer ${index}`];
  expect(texts.at(-1)).toBe(`answer ${index}`);
  const positions = texts.map((text) => order.indexOf(text));
  expect(positions.every((position) => position >= 0)).toBe(true);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
}

describe('Slack message edits across the workspace (real Bolt web client, simulated Slack)', () => {
  it('keeps many messages edited at once within the workspace limit of chat.update', async () => {
    // Slack would answer 429 past 10 edits in any second; the editor allows a burst of 4 and 4 a second.
    const { editor, posted } = await setUp(
      { workspaceUpdates: { max: 10, windowMs: 1000 } },
      { perMinute: 240, burst: 4 },
    );
    const finals = posted.map((ts, index) => {
      editor.progress({ channel, ts, text: `progress ${index}` });
      editor.progress({ channel, ts, text: `more ${index}` });
      return editor.final({ channel, ts, text: `answer ${index}` });
    });
    await Promise.all(finals);
    expect(simulation.api.rateLimited).toEqual([]);
    posted.forEach((ts, index) => {
      expect(simulation.workspace.find(channel, ts)?.text).toBe(`answer ${index}`);
      expectInOrder(acceptedTexts(ts), index);
    });
  });

  it('waits out a 429 with Retry-After, pausing every edit, and the edits still land in order', async () => {
    // After the pause, a burst of edits held back meanwhile would meet Slack's limit again.
    const { client, editor, posted } = await setUp(
      { workspaceUpdates: { max: 8, windowMs: 1000 } },
      { perMinute: 240, burst: 4 },
    );
    const [first, ...rest] = posted;
    if (first === undefined) throw new Error('nothing posted');
    // Slack's workspace budget is spent elsewhere: the next two seconds' edits are refused.
    simulation.api.limitUpdatesFor(2);
    const limited = new Promise((resolve) => client.once(webApi.WebClientEvent.RATE_LIMITED, resolve));
    const firstFinal = editor.final({ channel, ts: first, text: 'answer 0' });
    expect(await limited).toBe(2);
    const finals = rest.map((ts, offset) => {
      const index = offset + 1;
      editor.progress({ channel, ts, text: `progress ${index}` });
      editor.progress({ channel, ts, text: `more ${index}` });
      return editor.final({ channel, ts, text: `answer ${index}` });
    });
    await Promise.all([firstFinal, ...finals]);
    // Only the edit that met the limit was refused: the others waited for the Retry-After and
    // then came at the limiter's pace, not all at once.
    expect(simulation.api.rateLimited).toHaveLength(1);
    posted.forEach((ts, index) => {
      expect(simulation.workspace.find(channel, ts)?.text).toBe(`answer ${index}`);
      expectInOrder(acceptedTexts(ts), index);
    });
  });
});
