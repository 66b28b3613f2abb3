import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DiscordSimulation, type SimMessage } from '../../helpers/discord-simulation/index.js';
import { eventually } from '../../helpers/queue.js';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.js';
import { type BotSide, discordConfig, loadEngine, png, startBotSide, startWorker } from './harness.js';

let redis: RedisServer;
let engine: Awaited<ReturnType<typeof loadEngine>>;
beforeAll(async () => {
  [redis, engine] = await Promise.all([startRedisServer(), loadEngine()]);
});
afterAll(async () => {
  await engine.close();
  await redis.stop();
});

const closing: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const resource of closing.splice(0).reverse()) await resource.close();
});

async function setUp(overrides: Record<string, string> = {}) {
  const simulation = await DiscordSimulation.start();
  closing.push(simulation);
  const config = await discordConfig(redis, simulation, overrides);
  closing.push(await startWorker(config, engine));
  const bot: BotSide = await startBotSide(config);
  closing.push(bot);
  return { simulation, config, bot };
}

/** The bot's final answer: the waiting message once it no longer waits or streams. */
const answered = (message: SimMessage | undefined) =>
  message !== undefined &&
  !/^(⏳|✍️)/u.test(message.content) &&
  !message.content.endsWith('▌') &&
  message.components.length === 0
    ? message
    : undefined;

describe('Discord mentions and threads', () => {
  it('answers a mention with an image in a thread started from it, streaming the answer', async () => {
    const { simulation } = await setUp();
    const image = simulation.upload('red.png', await png({ r: 220, g: 20, b: 20 }), 'image/png');
    const mention = simulation.post({
      content: 'what is in this picture?',
      mention: true,
      attachments: [image],
    });
    const thread = await eventually(() => simulation.store.channels.get(mention.id));
    expect(thread).toMatchObject({ type: 11, parent_id: simulation.channel.id });
    const answer = await eventually(() => answered(simulation.botMessages(thread.id)[0]), 20_000);
    expect(answer.content.length).toBeGreaterThan(0);
    expect(answer.components).toEqual([]);
    // The waiting message was posted first, then showed the place in line, then the answer.
    expect(answer.history.slice(0, 2)).toEqual(['⏳ Reading…', '⏳ Next in line…']);
  });
});
