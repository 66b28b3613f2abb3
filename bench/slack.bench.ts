// The Slack adapter under load: 200 people mention the bot at once through Socket Mode.
//
//   npx vitest run --config bench/slack.vitest.config.ts
//
// The real Bolt, bot service, queue (real Redis) and a worker on the no-op test engine (answers at
// once), against the loopback Slack simulation. Figures: envelope to ack (the simulation's clock,
// from sending an envelope to reading its ack), and mention to final reply (from sending the
// mention to the chat.update that turns the status message into the answer), p50 and p99 over
// the 400 envelopes and 200 replies of one burst, after a warm-up burst of 20.
//
// The simulation sets no workspace limit on chat.update, and the adapter's edit limiter is
// opened wide here so the figures measure the bot. Under Slack's Tier 3 budget (the adapter's
// default, `slackEditRate`: 50 a minute after a burst of 10), 200 answers given at once take
// about four minutes to post, whatever the bot does.
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { SlackAdapter } from '../src/bots/slack/index.js';
import { loadConfig } from '../src/config/index.js';
import { packageRoot } from '../src/core/index.js';
import { BotService } from '../src/queue/index.js';
import { GpuWorker } from '../src/worker/index.js';
import { createTestEngine } from '../test/helpers/engines.mjs';
import { queueTestEnv } from '../test/helpers/queue.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { SlackSimulation, simulatedIds } from '../test/helpers/slack-simulation/index.js';

const people = 200;
const logger = pino({ level: 'silent' });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function burst(simulation: SlackSimulation, size: number, tag: string) {
  const start = Date.now();
  const sent = Array.from({ length: size }, (_, index) =>
    simulation.mention({ user: `U${tag}${index}`, channel: 'C0BENCH', text: `question ${index}` }),
  );
  const acks = (await Promise.all(sent.map((one) => one.acks))).flat().map((ack) => ack.elapsedMs);
  const replies: number[] = [];
  for (;;) {
    replies.length = 0;
    for (const one of sent) {
      const status = simulation.workspace.botReplies('C0BENCH', one.message.ts)[0];
      const final = simulation.api
        .callsTo('chat.update')
        .find((call) => call.args['ts'] === status?.ts && call.args['metadata'] !== undefined);
      if (final !== undefined) replies.push(final.at - start);
    }
    if (replies.length === size || Date.now() - start > 120_000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { acks, replies };
}

it(`${people} people mention the bot at once`, async () => {
  const redis = await startRedisServer();
  const simulation = await SlackSimulation.start();
  const env = queueTestEnv(redis, {
    EMU_BOT_SLACK__ENABLED: 'true',
    EMU_BOT_SLACK__API_URL: simulation.apiUrl,
    EMU_BOT_SLACK__BOT_TOKEN: simulatedIds.botToken,
    EMU_BOT_SLACK__APP_TOKEN: simulatedIds.appToken,
    EMU_BOT_QUEUE__LIMITS__SERVER_QUEUED: '10000',
    EMU_BOT_QUEUE__LIMITS__SERVER_RUNNING: '64',
    EMU_BOT_WORKER__BATCH_SIZE: '16',
    // The bot side counts prompt tokens with the instruct bundle's tokenizer.
    EMU_BOT_MODELS__INSTRUCT__BUNDLE: join(packageRoot, 'test', 'fixtures', 'bundles', 'tiny-instruct'),
  });
  const config = (await loadConfig({ env, cwd: '/' })).config;
  const worker = await GpuWorker.start({ config, engine: createTestEngine(), logger });
  const adapter = new SlackAdapter(config, logger, { editRate: { perMinute: 600_000, burst: 1000 } });
  const service = await BotService.start({ config, logger, sinks: [adapter] });
  await adapter.start(service, new AbortController().signal);
  try {
    await burst(simulation, 20, 'W');
    const { acks, replies } = await burst(simulation, people, 'P');
    expect(replies).toHaveLength(people);
    const line = (name: string, values: number[]) =>
      `${name}: p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms (n=${values.length})`;
    console.log(`Slack, ${people} people at once through Socket Mode`);
    console.log(line('envelope to ack', acks));
    console.log(line('mention to final reply', replies));
    const methods = new Map<string, number>();
    for (const call of simulation.api.calls) methods.set(call.method, (methods.get(call.method) ?? 0) + 1);
    console.log('Web API calls:', JSON.stringify(Object.fromEntries(methods)));
  } finally {
    await adapter.close();
    await service.close();
    await worker.close();
    await simulation.stop();
    await redis.stop();
  }
});
