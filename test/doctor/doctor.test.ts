import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { type CheckResult, defaultChecks, formatReport, runChecks } from '../../src/doctor/index.js';
import { runExecutable } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

let directory: string;
let redis: RedisServer;
let bundle: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emu-bot-doctor-'));
  bundle = join(directory, 'bundle');
  await mkdir(bundle);
  await writeFile(join(bundle, 'manifest.json'), '{}');
  redis = await startRedisServer({ password: 'doctor-secret' });
});
afterAll(async () => {
  await redis.stop();
  await rm(directory, { recursive: true, force: true });
});

async function doctor(env: NodeJS.ProcessEnv): Promise<Map<string, CheckResult>> {
  const loaded = await loadConfig({ env, cwd: directory });
  const results = await runChecks(defaultChecks(loaded), new AbortController().signal);
  return new Map(results.map((result) => [result.name, result]));
}

const healthy = () => ({
  EMU_BOT_REDIS__URL: redis.url,
  EMU_BOT_REDIS__PASSWORD: 'doctor-secret',
  EMU_BOT_MODELS__INSTRUCT__BUNDLE: bundle,
  EMU_BOT_MODELS__PRETRAIN__BUNDLE: bundle,
});

describe('doctor checks', () => {
  it('passes everything on a healthy set-up', async () => {
    const results = await doctor(healthy());
    expect([...results.values()].map((result) => [result.name, result.status])).toEqual([
      ['configuration', 'ok'],
      ['platforms', 'ok'],
      ['redis', 'ok'],
      ['ffmpeg', 'ok'],
      ['ffprobe', 'ok'],
      ['bundle (instruct)', 'ok'],
      ['bundle (pretrain)', 'ok'],
    ]);
    expect(results.get('redis')?.summary).toMatch(/answers \(Redis \d/);
    expect(results.get('ffmpeg')?.summary).toMatch(/ffmpeg \d/);
  });

  it('warns when attachments may come from loopback, which only the test simulations need', async () => {
    const results = await doctor({ ...healthy(), EMU_BOT_ATTACHMENTS__ALLOW_LOOPBACK: 'true' });
    expect(results.get('attachments')?.status).toBe('warn');
    expect(results.get('attachments')?.fix).toMatch(/set attachments\.allowLoopback to false/);
  });

  it('says when Redis refuses the password, and how to fix it, without the password', async () => {
    const results = await doctor({ ...healthy(), EMU_BOT_REDIS__PASSWORD: 'wrong-password' });
    const result = results.get('redis');
    expect(result?.status).toBe('fail');
    expect(result?.fix).toContain('EMU_BOT_REDIS__PASSWORD');
    expect(JSON.stringify(result)).not.toContain('wrong-password');
  });

  it('says when nothing listens at the Redis URL', async () => {
    const closed = await startRedisServer();
    await closed.stop();
    const result = (await doctor({ ...healthy(), EMU_BOT_REDIS__URL: closed.url })).get('redis');
    expect(result?.status).toBe('fail');
    expect(result?.summary).toContain('ECONNREFUSED');
    expect(result?.fix).toContain('redis.url');
  });

  it('says when ffmpeg is missing', async () => {
    const result = (
      await doctor({ ...healthy(), EMU_BOT_MEDIA__FFMPEG_PATH: join(directory, 'no-ffmpeg') })
    ).get('ffmpeg');
    expect(result?.status).toBe('fail');
    expect(result?.summary).toContain('not found');
    expect(result?.fix).toContain('media.ffmpegPath');
  });

  it('tells a missing bundle, a file, and a directory without a manifest apart', async () => {
    const file = join(directory, 'a-file');
    await writeFile(file, 'x');
    const empty = join(directory, 'empty');
    await mkdir(empty, { recursive: true });
    const results = await doctor({
      ...healthy(),
      EMU_BOT_MODELS__INSTRUCT__BUNDLE: join(directory, 'missing'),
      EMU_BOT_MODELS__PRETRAIN__BUNDLE: file,
    });
    expect(results.get('bundle (instruct)')?.summary).toContain('does not exist');
    expect(results.get('bundle (pretrain)')?.summary).toContain('is not a directory');
    const noManifest = await doctor({ ...healthy(), EMU_BOT_MODELS__INSTRUCT__BUNDLE: empty });
    expect(noManifest.get('bundle (instruct)')?.summary).toContain('has no manifest.json');
  });

  it('warns about a token that is clearly the wrong kind, without printing it', async () => {
    const results = await doctor({
      ...healthy(),
      EMU_BOT_SLACK__ENABLED: 'true',
      EMU_BOT_SLACK__BOT_TOKEN: 'xapp-1-this-is-an-app-token',
      EMU_BOT_SLACK__APP_TOKEN: 'xapp-1-app',
    });
    const result = results.get('platforms');
    expect(result?.status).toBe('warn');
    expect(result?.summary).toContain('slack.botToken does not look like a bot token');
    expect(JSON.stringify(result)).not.toContain('this-is-an-app-token');
  });

  it('formats a report that ends with the verdict', () => {
    const report = formatReport([
      { name: 'redis', status: 'fail', summary: 'cannot use redis://x', fix: 'start it' },
      { name: 'ffmpeg', status: 'ok', summary: 'ffmpeg 5' },
    ]);
    expect(report).toBe(
      '✘ redis   cannot use redis://x\n          -> start it\n✔ ffmpeg  ffmpeg 5\n\n1 check(s) failed.\n',
    );
  });
});

describe('emu-bot doctor (the executable)', () => {
  it('exits 0 when all is well', async () => {
    const result = await runExecutable(['doctor'], healthy());
    expect(result.stdout).toContain('All checks passed.');
    expect(result.code).toBe(0);
  });

  it('exits 1 and prints JSON results when a check fails', async () => {
    const result = await runExecutable(['doctor', '--json'], {
      ...healthy(),
      EMU_BOT_MEDIA__FFMPEG_PATH: '/nonexistent/ffmpeg',
    });
    expect(result.code).toBe(1);
    const results = JSON.parse(result.stdout) as CheckResult[];
    expect(results.find((check) => check.name === 'ffmpeg')?.status).toBe('fail');
  });

  it('exits 2 with one line for bad configuration', async () => {
    const result = await runExecutable(['doctor'], { EMU_BOT_SHUTDOWN__DEADLINE_MS: '-5' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'error [CONFIG_INVALID]: shutdown.deadlineMs (from EMU_BOT_SHUTDOWN__DEADLINE_MS): found -5 (a number), expected more than 0\n',
    );
  });
});
