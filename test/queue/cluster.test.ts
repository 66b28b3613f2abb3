import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { BotService, createRedisConnection, type JobRequest } from '../../src/queue/index.js';
import { GpuWorker } from '../../src/worker/index.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { eventually, queueTestConfig, RecordingSink, textRequest } from '../helpers/queue.js';
import { freePort } from '../helpers/redis-server.js';

// A real Redis Cluster of one node, which holds all 16384 slots. It refuses any command,
// MULTI or script whose declared keys hash to more than one slot (CROSSSLOT), like a cluster of
// many nodes; what one node cannot show is a redirection between nodes (MOVED), which is
// ioredis's business. Keys a script touches without declaring them are checked through
// MONITOR: every command Redis ran, from clients and from inside scripts (ours and BullMQ's),
// has its keys read back with COMMAND GETKEYS and mapped to its slot with CLUSTER KEYSLOT.

interface ClusterNode {
  readonly port: number;
  stop(): Promise<void>;
}

async function startClusterNode(): Promise<ClusterNode> {
  const directory = await mkdtemp(join(tmpdir(), 'emu-bot-cluster-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'].concat([
      '--cluster-enabled',
      'yes',
      // A lone node reports an empty address in CLUSTER SLOTS unless told its own.
      '--cluster-announce-ip',
      '127.0.0.1',
      '--cluster-config-file',
      'nodes.conf',
      '--dir',
      directory,
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  const admin = new Redis(port, '127.0.0.1');
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await eventually(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'));
  admin.disconnect();
  return {
    port,
    async stop() {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      await rm(directory, { recursive: true, force: true });
    },
  };
}

let node: ClusterNode;
beforeAll(async () => {
  node = await startClusterNode();
});
afterAll(async () => {
  await node?.stop();
});

const logger = pino({ level: 'silent' });

async function clusterConfig(prefix: string) {
  return queueTestConfig({
    EMU_BOT_REDIS__CLUSTER_NODES: `[redis://127.0.0.1:${node.port}]`,
    EMU_BOT_REDIS__KEY_PREFIX: prefix,
    EMU_BOT_LOG__LEVEL: 'silent',
    EMU_BOT_LOG__FORMAT: 'json',
    EMU_BOT_OPERATIONS__PORT: 'null',
    EMU_BOT_WORKER__MODELS: 'instruct',
    EMU_BOT_WORKER__BATCH_SIZE: '1',
    EMU_BOT_WORKER__LOCK_DURATION_MS: '1000',
    EMU_BOT_WORKER__STALLED_INTERVAL_MS: '500',
    EMU_BOT_WORKER__HEARTBEAT_MS: '500',
    EMU_BOT_QUEUE__STATUS_INTERVAL_MS: '100',
  });
}

describe('Redis Cluster', () => {
  it('reads redis.clusterNodes and builds an ioredis Cluster from them', async () => {
    const { config } = await loadConfig({
      env: { EMU_BOT_REDIS__CLUSTER_NODES: '[redis://10.0.0.1:7000, rediss://10.0.0.2]' },
      cwd: '/',
    });
    expect(config.redis.clusterNodes).toEqual(['redis://10.0.0.1:7000', 'rediss://10.0.0.2']);
    const client = createRedisConnection(config.redis) as unknown as Cluster;
    try {
      expect(client).toBeInstanceOf(Cluster);
      expect((client as unknown as { startupNodes: unknown }).startupNodes).toEqual([
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
      ]);
      expect(client.options.redisOptions?.tls).toEqual({});
    } finally {
      client.disconnect();
    }
    await expect(
      loadConfig({ env: { EMU_BOT_REDIS__CLUSTER_NODES: '[http://10.0.0.1:7000]' }, cwd: '/' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it("runs jobs on a cluster, and every key BullMQ's and our commands and scripts touch is in one slot", async () => {
    const prefix = `cluster-${process.pid}`;
    const config = await clusterConfig(prefix);
    const commands: string[][] = [];
    const monitor = await new Redis(node.port, '127.0.0.1').monitor();
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args));
    const sink = new RecordingSink();
    const bot = await BotService.start({ config, logger, sinks: [sink] });
    const engine = createTestEngine({ models: ['instruct'], delayMs: 300 });
    const worker = await GpuWorker.start({ config, engine, logger });
    try {
      const withImage = textRequest('ada', '[IMG] what is this?');
      const pixels = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const first = await bot.enqueue({
        ...withImage,
        request: { ...withImage.request, images: [{ width: 2, height: 2, data: pixels }] },
      } as JobRequest);
      await eventually(() => engine.stats.active === 1);
      const second = await bot.enqueue(textRequest('bob', 'cancel me'));
      await expect(bot.client.cancel(second.jobId)).resolves.toBe('removed');
      const third = await bot.enqueue(textRequest('cy', 'hello'));
      await eventually(() => sink.outcomes.length === 3);
      expect(sink.outcome(first.jobId)).toMatchObject({ status: 'completed' });
      expect(sink.outcome(second.jobId)).toMatchObject({ status: 'failed', code: 'ABORTED' });
      expect(sink.outcome(third.jobId)).toMatchObject({ status: 'completed' });
    } finally {
      await worker.close();
      await bot.close();
      monitor.disconnect();
    }

    const probe = new Redis(node.port, '127.0.0.1');
    try {
      const keys = new Set<string>();
      for (const args of commands) {
        if (args.length < 2) continue;
        const found = await probe.call('COMMAND', 'GETKEYS', ...args).catch(() => [] as string[]);
        for (const key of found as string[]) keys.add(key);
      }
      const slots = new Map<number, string[]>();
      for (const key of keys) {
        const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', key));
        slots.set(slot, [...(slots.get(slot) ?? []), key]);
      }
      const tagSlot = Number(await probe.call('CLUSTER', 'KEYSLOT', `{${prefix}}`));
      expect([...slots.keys()], JSON.stringify(Object.fromEntries(slots))).toEqual([tagSlot]);
      // Both sides were seen: BullMQ's keys, ours, and ours touched from inside our scripts.
      const all = [...keys];
      expect(all).toContain(`{${prefix}}:instruct:prioritized`);
      expect(all).toContain(`{${prefix}}:emu:user:ada:running`);
      expect(all.some((key) => key.startsWith(`{${prefix}}:emu:job:`) && key.endsWith(':image:0'))).toBe(
        true,
      );
      expect(all.some((key) => key.startsWith(`{${prefix}}:emu:results:`))).toBe(true);
    } finally {
      probe.disconnect();
    }
  });
});
