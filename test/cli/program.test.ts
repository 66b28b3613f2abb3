import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emu-bot-cli-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const oneErrorLine = /^error \[[A-Z_]+\]: [^\n]+\n$/;

describe('emu-bot', () => {
  it.each([[['--help']], [['config', '--help']], [['doctor', '--help']]])(
    'prints help for %j',
    async (argv) => {
      const result = await runInProcess(argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: emu-bot/);
      expect(result.stderr).toBe('');
    },
  );

  it('lists only the commands that work', async () => {
    const { stdout } = await runInProcess(['--help']);
    const commands = [...(stdout.split('Commands:')[1]?.matchAll(/^ {2}(\w[\w-]*)/gm) ?? [])].map(
      (match) => match[1],
    );
    expect(commands).toEqual([
      'config',
      'doctor',
      'chat',
      'run',
      'imagine',
      'tokenize',
      'bot',
      'register-commands',
      'help',
    ]);
  });

  it('answers an unknown command with exit 2 and one line', async () => {
    const result = await runInProcess(['imagine-everything']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(oneErrorLine);
    expect(result.stderr).toContain("error [USAGE]: unknown command 'imagine-everything'");
  });

  it('answers an unknown option with exit 2 and one line', async () => {
    const result = await runInProcess(['config', '--colour']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(oneErrorLine);
  });

  it.each([
    ['a broken file', 'log: [\n', 'CONFIG_PARSE_FAILED'],
    ['an unknown key', 'logging:\n  level: info\n', 'CONFIG_INVALID'],
    ['a wrong type', 'discord:\n  enabled: sometimes\n', 'CONFIG_INVALID'],
    ['a secret in the file', 'slack:\n  botToken: xoxb-123\n', 'CONFIG_SECRET_IN_FILE'],
  ])('exits 2 with one line and no stack trace for %s', async (_name, yaml, code) => {
    const path = join(directory, `${code}.yaml`);
    await writeFile(path, yaml);
    const result = await runInProcess(['--config', path, 'config']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(oneErrorLine);
    expect(result.stderr.startsWith(`error [${code}]: `)).toBe(true);
    expect(result.stderr).not.toContain('xoxb-123');
    expect(result.stdout).toBe('');
  });

  it('exits 2 for a missing configuration file', async () => {
    const result = await runInProcess(['config'], { EMU_BOT_CONFIG: join(directory, 'nope.yaml') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[CONFIG_FILE_UNREADABLE\]: .*nope\.yaml: no such file\n$/);
  });
});

describe('emu-bot config', () => {
  const secrets = {
    EMU_BOT_DISCORD__ENABLED: 'true',
    EMU_BOT_DISCORD__TOKEN: 'MTIzNDU2.discord-secret.xyz',
    EMU_BOT_SLACK__SIGNING_SECRET: 'slack-signing-secret-value',
    EMU_BOT_REDIS__PASSWORD: 'redis-password-value',
  };

  it('prints the effective configuration with sources and without secrets', async () => {
    const result = await runInProcess(['config'], { ...secrets, EMU_BOT_LOG__LEVEL: 'warn' });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/level: warn # EMU_BOT_LOG__LEVEL/);
    expect(result.stdout).toMatch(/token: "?\[redacted\]"? # EMU_BOT_DISCORD__TOKEN/);
    expect(result.stdout).toContain('appToken: (not set)');
    for (const value of Object.values(secrets).slice(1)) expect(result.stdout).not.toContain(value);
  });

  it('prints JSON on request, also without secrets', async () => {
    const result = await runInProcess(['config', '--json'], secrets);
    const printed = JSON.parse(result.stdout) as { discord: { token: string }; redis: { password: string } };
    expect(printed.discord.token).toBe('[redacted]');
    expect(printed.redis.password).toBe('[redacted]');
    for (const value of Object.values(secrets).slice(1)) expect(result.stdout).not.toContain(value);
  });
});
