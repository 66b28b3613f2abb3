import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/index.js';
import { eventually } from '../../helpers/queue.js';
import {
  eventCallback,
  formBody,
  type SlackSimulation,
  sendSigned,
  signRequest,
  simulatedIds,
} from '../../helpers/slack-simulation/index.js';
import { type BotSide, Gate, heldText, useSlackStack } from './harness.js';

const stack = useSlackStack();

let simulation: SlackSimulation;
let bot: BotSide;

async function setUp(overrides: Record<string, string> = {}, workerEngine?: Engine) {
  ({ simulation, bot } = await stack.setUp(overrides, workerEngine));
}

const channel = 'C0GENERAL';
const answers = (threadTs: string) =>
  simulation.workspace.botReplies(channel, threadTs).filter((message) => message.metadata !== undefined);

describe('Slack delivery', () => {
  it('never answers a retried event twice', async () => {
    await setUp();
    const sent = simulation.mention({ user: 'U0ADA', channel, text: 'hello there' });
    await sent.acks;
    const retry = await simulation.retryEvent(sent, 1);
    expect(retry.envelopeId).toBeDefined();
    await eventually(() => answers(sent.message.ts).length === 1, 20_000);
    // A second mention answered later shows the retry had its chance to answer and did not.
    const later = simulation.mention({ user: 'U0ADA', channel, text: 'and again' });
    await eventually(() => answers(later.message.ts).length === 1, 20_000);
    expect(simulation.workspace.botReplies(channel, sent.message.ts)).toHaveLength(1);
  });

  it('delivers the answer once when Socket Mode reconnects while the job is held running', async () => {
    const gate = new Gate();
    try {
      await setUp({}, heldText(stack.engine, gate));
      const connections = simulation.socket.connections;
      const sent = simulation.mention({ user: 'U0ADA', channel, text: 'a long question' });
      await sent.acks;
      // The job is running on the worker, held there until the reconnect is done.
      await eventually(() => gate.reached === 1, 20_000);
      simulation.socket.requestReconnect();
      await eventually(
        () => simulation.socket.connections > connections && simulation.socket.openConnections === 1,
      );
      // Slack sends the event again on the new connection when it doubts the ack.
      await simulation.retryEvent(sent, 1);
      expect(answers(sent.message.ts)).toEqual([]);
      gate.open();
      await eventually(() => answers(sent.message.ts).length === 1, 20_000);
      const later = simulation.mention({ user: 'U0ADA', channel, text: 'still there?' });
      await eventually(() => answers(later.message.ts).length === 1, 20_000);
      expect(simulation.workspace.botReplies(channel, sent.message.ts)).toHaveLength(1);
      // The retried event started no second job: the engine ran this question once.
      expect(gate.reached).toBe(2);
    } finally {
      gate.open();
    }
  });

  it('cancels a running job from its button, for the person who asked only', async () => {
    // A drawing that runs until it is cancelled.
    const endless = {
      ...stack.engine,
      generateImage: (_request: unknown, options?: { signal?: AbortSignal }) =>
        new Promise<never>((_, reject) => {
          options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
        }),
    };
    await setUp({}, endless);
    const root = simulation.mention({ user: 'U0ADA', channel, text: 'draw a slow picture' });
    await root.acks;
    const status = await eventually(() =>
      simulation.workspace
        .botReplies(channel, root.message.ts)
        .find((message) => JSON.stringify(message.blocks ?? []).includes('emu_cancel')),
    );
    await simulation.click(status, 'emu_cancel', 'U0BOB');
    const refusal = await eventually(() => simulation.responses.at(-1) as { text?: string } | undefined);
    expect(refusal.text).toMatch(/Only the person who asked/);
    await simulation.click(status, 'emu_cancel', 'U0ADA');
    await eventually(() => status.text.includes('Cancelled'), 20_000);
  });

  it('serves only the allowed channels', async () => {
    await setUp({ EMU_BOT_SLACK__ALLOWED_CHANNELS: '[C0OTHER]' });
    const sent = simulation.mention({ user: 'U0ADA', channel, text: 'hello' });
    await sent.acks;
    await simulation.command('/emu', 'ask hi', 'U0ADA', channel);
    const response = await eventually(() => simulation.responses.at(-1) as { text?: string } | undefined);
    expect(response.text).toMatch(/not available in this channel/);
    expect(simulation.workspace.botReplies(channel, sent.message.ts)).toEqual([]);
  });
});

describe('Slack HTTP mode', () => {
  const command = formBody({
    token: 'verification-token',
    team_id: simulatedIds.team,
    channel_id: channel,
    user_id: 'U0ADA',
    command: '/emu',
    text: 'queue',
    response_url: 'http://127.0.0.1:1/unused',
    trigger_id: 'trigger-1',
  });

  async function httpSetUp() {
    await setUp({
      EMU_BOT_SLACK__MODE: 'http',
      EMU_BOT_SLACK__HTTP__HOST: '127.0.0.1',
      EMU_BOT_SLACK__HTTP__PORT: '0',
    });
    return `${bot.adapter.httpUrl}/slack/events`;
  }

  it('accepts a signed request and refuses a bad signature, a stale timestamp and a replay', async () => {
    const url = await httpSetUp();
    const secret = simulatedIds.signingSecret;
    const valid = signRequest(command, { secret });
    expect((await sendSigned(url, valid)).status).toBe(200);
    expect((await sendSigned(url, valid)).status).toBe(401);
    expect((await sendSigned(url, signRequest(command, { secret, forge: true }))).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await sendSigned(url, signRequest(command, { secret, timestamp: stale }))).status).toBe(401);
  });

  it('answers a mention sent as a signed event', async () => {
    const url = await httpSetUp();
    const message = simulation.workspace.post({
      channel,
      user: 'U0ADA',
      text: `<@${simulatedIds.botUser}> hi`,
    });
    const event = eventCallback({
      type: 'app_mention',
      user: 'U0ADA',
      text: message.text,
      ts: message.ts,
      channel,
    });
    const request = signRequest(JSON.stringify(event), { secret: simulatedIds.signingSecret });
    const sent = await sendSigned(url, {
      ...request,
      headers: { ...request.headers, 'content-type': 'application/json' },
    });
    expect(sent.status).toBe(200);
    await eventually(() => answers(message.ts).length === 1, 20_000);
  });
});
