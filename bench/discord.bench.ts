// The Discord adapter under load: 200 people at once, half mentioning the bot, half running /imagine.
//
//   npx vitest run --config bench/discord.vitest.config.ts
//
// The real discord.js, bot service, queue (real Redis) and a worker on the no-op test engine
// (answers at once), against the loopback Discord simulation. Figures, on the simulation's clock:
// event to acknowledgement (a mention: from its MESSAGE_CREATE to the thread the bot starts from
// it; /imagine: from its INTERACTION_CREATE to the deferred callback), and event to final reply
// (the answer in the thread; the PNG on the interaction's reply), p50 and p99 over one burst of
// 200, after a warm-up burst of 20.
//
// discord.js keeps a bot under Discord's global limit of 50 requests a second (with the bot
// token; interaction callbacks are exempt, and the adapter sends interaction webhooks, which
// Discord does not count either, through a client of its own). A mention's acknowledgement is one
// request, sent before any other the bot has waiting; its waiting message and place in line come
// after, and are skipped when the answer is ready first. 100 mentions at once still need two
// seconds of that limit: their acknowledgements cannot all land within 500 ms.
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { DiscordAdapter } from '../src/bots/discord/index.js';
import { loadConfig } from '../src/config/index.js';
import { packageRoot } from '../src/core/index.js';
import { BotService } from '../src/queue/index.js';
import { GpuWorker } from '../src/worker/index.js';
import { DiscordSimulation, type SimMessage } from '../test/helpers/discord-simulation/index.js';
import { createTestEngine } from '../test/helpers/engines.mjs';
import { queueTestEnv } from '../test/helpers/queue.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const people = 200;
const logger = pino({ level: 'silent' });
const bundles = join(packageRoot, 'test', 'fixtures', 'bundles');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const isFinal = (message: SimMessage | undefined) =>
  message !== undefined && message.content !== '' && !/^(⏳|✍️|🎨)/u.test(message.content);

async function burst(simulation: DiscordSimulation, size: number, tag: string) {
  const mentions: Array<{ at: number; message: SimMessage }> = [];
  const commands: Array<ReturnType<DiscordSimulation['command']>> = [];
  for (let index = 0; index < size; index += 1) {
    const author = simulation.store.addUser(`${tag}${index}`);
    if (index % 2 === 0)
      mentions.push({
        at: Date.now(),
        message: simulation.post({ content: `question ${index}`, mention: true, author }),
      });
    else
      commands.push(
        simulation.command('imagine', [{ name: 'prompt', type: 3, value: `drawing ${index}` }], {
          user: author,
        }),
      );
  }
  const deadline = Date.now() + 120_000;
  /** When the thread's answer first showed (the waiting message edited, or the answer posted). */
  const answeredAt = (threadId: string) => {
    const times = simulation.botMessages(threadId).flatMap((message) => {
      const final = message.history.findIndex((content) => isFinal({ ...message, content }));
      return final < 0 ? [] : [message.historyAt[final] as number];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  };
  for (;;) {
    const threadsDone = mentions.every(({ message }) => answeredAt(message.id) !== undefined);
    const drawingsDone = commands.every((interaction) => (interaction.original?.attachments.length ?? 0) > 0);
    if ((threadsDone && drawingsDone) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const acks: number[] = [];
  const finals: number[] = [];
  for (const { at, message } of mentions) {
    const thread = simulation.store.channels.get(message.id);
    if (thread?.createdAt === undefined) continue;
    acks.push(thread.createdAt - at);
    const final = answeredAt(message.id);
    if (final !== undefined) finals.push(final - at);
  }
  for (const interaction of commands) {
    if (interaction.callbackAt !== undefined) acks.push(interaction.callbackAt - interaction.createdAt);
    const original = interaction.original;
    if (original !== undefined && original.attachments.length > 0)
      finals.push((original.historyAt.at(-1) as number) - interaction.createdAt);
  }
  return { acks, finals };
}

it(`${people} people mention the bot or run /imagine at once`, async () => {
  const redis = await startRedisServer();
  const simulation = await DiscordSimulation.start();
  const env = queueTestEnv(redis, {
    EMU_BOT_DISCORD__ENABLED: 'true',
    EMU_BOT_DISCORD__TOKEN: simulation.token,
    EMU_BOT_DISCORD__API_URL: simulation.apiUrl,
    EMU_BOT_DISCORD__CDN_URL: simulation.cdnUrl,
    EMU_BOT_MODELS__INSTRUCT__BUNDLE: join(bundles, 'tiny-instruct'),
    EMU_BOT_MODELS__PRETRAIN__BUNDLE: join(bundles, 'tiny-pretrain'),
    // One server holds all 200 people: lift the per-server limits the defaults keep at 50 and 8.
    EMU_BOT_QUEUE__LIMITS__SERVER_QUEUED: '1000',
    EMU_BOT_QUEUE__LIMITS__SERVER_RUNNING: '1000',
    EMU_BOT_WORKER__BATCH_SIZE: '16',
  });
  const config = (await loadConfig({ env, cwd: '/' })).config;
  const worker = await GpuWorker.start({ config, engine: createTestEngine({ delayMs: 0 }), logger });
  const adapter = new DiscordAdapter(config, logger);
  const service = await BotService.start({ config, logger, sinks: [adapter] });
  await adapter.start(service, new AbortController().signal);
  try {
    await burst(simulation, 20, 'warm');
    const { acks, finals } = await burst(simulation, people, 'user');
    expect(acks).toHaveLength(people);
    expect(finals).toHaveLength(people);
    const line = (name: string, values: number[]) =>
      `${name}: p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms (n=${values.length})`;
    // Mentions come first in each list, then the /imagine commands.
    const half = people / 2;
    const requests = simulation.rest.log.length;
    const kinds = new Map<string, number>();
    for (const entry of simulation.rest.log) {
      const kind = entry.replace(/\d{5,}/g, ':id').replace(/token-:id/g, ':token');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    console.log([...kinds].map(([kind, count]) => `${count} ${kind}`).join('\n'));
    console.log(
      [
        `REST requests in all (both bursts): ${requests}`,
        line('event to acknowledgement, all', acks),
        line('  mentions', acks.slice(0, half)),
        line('  /imagine', acks.slice(half)),
        line('event to final reply, all', finals),
        line('  mentions', finals.slice(0, half)),
        line('  /imagine', finals.slice(half)),
      ].join('\n'),
    );
  } finally {
    await adapter.close();
    await service.close();
    await worker.close();
    await simulation.close();
    await redis.stop();
  }
});
