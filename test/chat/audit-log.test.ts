import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEntry, AuditLog } from '../../src/chat/index.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emu-audit-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const entry: AuditEntry = {
  platform: 'discord',
  serverId: 'g1',
  channelId: 'c1',
  userId: 'u1',
  intent: 'imagine',
  outcome: 'queued',
  prompt: 'a red fox',
};

describe('AuditLog', () => {
  it('appends one JSON line per request to the day’s file, without the prompt unless configured', async () => {
    let now = new Date('2024-05-01T10:00:00Z');
    const log = new AuditLog({ directory, retentionDays: 30, includePrompts: false, now: () => now });
    await log.record(entry);
    now = new Date('2024-05-01T11:00:00Z');
    await log.record({ ...entry, outcome: 'blocked', code: 'PROMPT_BLOCKED' });
    const lines = (await readFile(join(directory, 'audit-2024-05-01.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        time: '2024-05-01T10:00:00.000Z',
        platform: 'discord',
        serverId: 'g1',
        channelId: 'c1',
        userId: 'u1',
        intent: 'imagine',
        outcome: 'queued',
      },
      {
        time: '2024-05-01T11:00:00.000Z',
        platform: 'discord',
        serverId: 'g1',
        channelId: 'c1',
        userId: 'u1',
        intent: 'imagine',
        outcome: 'blocked',
        code: 'PROMPT_BLOCKED',
      },
    ]);
    const withPrompts = new AuditLog({ directory, retentionDays: 30, includePrompts: true, now: () => now });
    await withPrompts.record(entry);
    expect(await readFile(join(directory, 'audit-2024-05-01.jsonl'), 'utf8')).toContain(
      '"prompt":"a red fox"',
    );
  });

  it('deletes files older than the retention when a new day starts, and keeps other files', async () => {
    for (const day of ['2024-03-01', '2024-04-01', '2024-04-02'])
      await writeFile(join(directory, `audit-${day}.jsonl`), '{}\n');
    await writeFile(join(directory, 'notes.txt'), 'mine');
    const log = new AuditLog({
      directory,
      retentionDays: 30,
      includePrompts: false,
      now: () => new Date('2024-05-02T00:00:01Z'),
    });
    await log.record(entry);
    expect((await readdir(directory)).sort()).toEqual([
      'audit-2024-04-02.jsonl',
      'audit-2024-05-02.jsonl',
      'notes.txt',
    ]);
  });

  it('serialises concurrent appends into whole lines', async () => {
    const log = new AuditLog({
      directory,
      retentionDays: 1,
      includePrompts: true,
      now: () => new Date('2024-05-01T00:00:00Z'),
    });
    await Promise.all(
      Array.from({ length: 50 }, (_, index) => log.record({ ...entry, userId: `u${index}` })),
    );
    await log.close();
    const lines = (await readFile(join(directory, 'audit-2024-05-01.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).userId)).toEqual(
      Array.from({ length: 50 }, (_, index) => `u${index}`),
    );
  });
});
