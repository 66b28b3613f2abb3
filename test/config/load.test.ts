import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigFile, listConfigKeys, loadConfig } from '../../src/config/index.js';
import { type EmuBotError, packageRoot } from '../../src/core/index.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emu-bot-config-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<EmuBotError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) throw new Error('expected the configuration to be rejected');
  return error as EmuBotError;
}

describe('loadConfig', () => {
  it('loads the defaults into a frozen object with the built-in bundles', async () => {
    const { config, sources } = await loadConfig({ env: {}, cwd: directory });
    expect(config.log.level).toBe('info');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.models.instruct).toEqual({
      bundle: join(packageRoot, 'bundles', 'tiny-instruct'),
      bundleIsBuiltIn: true,
    });
    expect(config.discord.token).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.log)).toBe(true);
    expect(() => {
      (config.log as { level: string }).level = 'debug';
    }).toThrow(TypeError);
    expect(sources.get('log.level')).toBe(defaultConfigFile);
  });

  it('layers a file over the defaults and the environment over the file', async () => {
    const path = await file('layered.yaml', 'log:\n  level: warn\nshutdown:\n  deadlineMs: 2500\n');
    const { config, sources } = await loadConfig({
      configFile: path,
      env: { EMU_BOT_LOG__LEVEL: 'debug', EMU_BOT_DISCORD__ENABLED: 'true', EMU_BOT_DISCORD__TOKEN: 'a.b.c' },
      cwd: directory,
    });
    expect(config.log.level).toBe('debug');
    expect(config.shutdown.deadlineMs).toBe(2500);
    expect(config.discord.enabled).toBe(true);
    expect(config.discord.token?.reveal()).toBe('a.b.c');
    expect(sources.get('log.level')).toBe('EMU_BOT_LOG__LEVEL');
    expect(sources.get('shutdown.deadlineMs')).toBe(path);
  });

  it('takes the file from EMU_BOT_CONFIG when no option names one', async () => {
    const path = await file('from-env.yaml', 'log:\n  format: json\n');
    const { config } = await loadConfig({ env: { EMU_BOT_CONFIG: path }, cwd: directory });
    expect(config.log.format).toBe('json');
  });

  it('takes a relative bundle path from the file that set it, or from the working directory', async () => {
    const path = await file('paths.yaml', 'models:\n  instruct:\n    bundle: bundles/emu-i\n');
    const { config } = await loadConfig({
      configFile: path,
      env: { EMU_BOT_MODELS__PRETRAIN__BUNDLE: 'here/emu' },
      cwd: '/srv/emu',
    });
    expect(config.models.instruct).toEqual({
      bundle: join(directory, 'bundles/emu-i'),
      bundleIsBuiltIn: false,
    });
    expect(config.models.pretrain.bundle).toBe('/srv/emu/here/emu');
  });

  it('names the key, its source, what was found and what is expected for a wrong type', async () => {
    const path = await file('wrong-type.yaml', 'shutdown:\n  deadlineMs: soon\n');
    const error = await failure(loadConfig({ configFile: path, env: {}, cwd: directory }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      `shutdown.deadlineMs (from ${path}): found "soon" (a string), expected a number`,
    );
  });

  it('lists the allowed values for an enumeration', async () => {
    const error = await failure(loadConfig({ env: { EMU_BOT_LOG__LEVEL: 'loud' }, cwd: directory }));
    expect(error.message).toContain(
      'log.level (from EMU_BOT_LOG__LEVEL): found "loud" (a string), expected one of',
    );
    expect(error.message).toContain('"debug"');
  });

  it('rejects an unknown key and suggests the nearest known one', async () => {
    const path = await file('unknown.yaml', 'log:\n  levle: debug\n');
    const error = await failure(loadConfig({ configFile: path, env: {}, cwd: directory }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`unknown key log.levle in ${path} (did you mean log.level?)`);
  });

  it('rejects an unknown section', async () => {
    const path = await file('section.yaml', 'telegram:\n  enabled: true\n');
    const error = await failure(loadConfig({ configFile: path, env: {}, cwd: directory }));
    expect(error.message).toContain(`unknown key telegram in ${path}`);
  });

  it('rejects an EMU_BOT_ variable that matches no key', async () => {
    const error = await failure(loadConfig({ env: { EMU_BOT_LOG__LEVL: 'debug' }, cwd: directory }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(
      'EMU_BOT_LOG__LEVL matches no configuration key. Did you mean EMU_BOT_LOG__LEVEL?',
    );
  });

  it('refuses a secret written in a file, without repeating it', async () => {
    const path = await file('secret.yaml', 'discord:\n  enabled: true\n  token: MTIz.abc.def\n');
    const error = await failure(loadConfig({ configFile: path, env: {}, cwd: directory }));
    expect(error.code).toBe('CONFIG_SECRET_IN_FILE');
    expect(error.message).toContain('discord.token');
    expect(error.message).toContain('EMU_BOT_DISCORD__TOKEN');
    expect(error.message).not.toContain('MTIz.abc.def');
  });

  it('refuses a password inside the Redis URL without repeating it', async () => {
    const error = await failure(
      loadConfig({ env: { EMU_BOT_REDIS__URL: 'redis://:hunter2@10.0.0.5:6379' }, cwd: directory }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('EMU_BOT_REDIS__PASSWORD');
    expect(error.message).not.toContain('hunter2');
  });

  it('reads a secret from the file named by its _FILE variable, without the trailing newline', async () => {
    const path = await file('slack-bot-token', 'xoxb-from-a-file\n');
    const { config } = await loadConfig({ env: { EMU_BOT_SLACK__BOT_TOKEN_FILE: path }, cwd: directory });
    expect(config.slack.botToken?.reveal()).toBe('xoxb-from-a-file');
  });

  it('reports an unreadable secret file by variable and path', async () => {
    const missing = join(directory, 'no-such-secret');
    const error = await failure(loadConfig({ env: { EMU_BOT_ADMIN__TOKEN_FILE: missing }, cwd: directory }));
    expect(error.code).toBe('SECRET_FILE_UNREADABLE');
    expect(error.message).toContain('EMU_BOT_ADMIN__TOKEN_FILE');
    expect(error.message).toContain(missing);
  });

  it('refuses a secret given twice', async () => {
    const path = await file('twice', 'x');
    const error = await failure(
      loadConfig({ env: { EMU_BOT_ADMIN__TOKEN: 'x', EMU_BOT_ADMIN__TOKEN_FILE: path }, cwd: directory }),
    );
    expect(error.message).toContain('both EMU_BOT_ADMIN__TOKEN and EMU_BOT_ADMIN__TOKEN_FILE');
  });

  it('requires the tokens of an enabled platform', async () => {
    const discord = await failure(loadConfig({ env: { EMU_BOT_DISCORD__ENABLED: 'true' }, cwd: directory }));
    expect(discord.message).toContain('discord.enabled is true, but discord.token is not set');
    const slack = await failure(
      loadConfig({
        env: {
          EMU_BOT_SLACK__ENABLED: 'true',
          EMU_BOT_SLACK__MODE: 'http',
          EMU_BOT_SLACK__BOT_TOKEN: 'xoxb-1',
        },
        cwd: directory,
      }),
    );
    expect(slack.message).toContain('slack.signingSecret is not set: set EMU_BOT_SLACK__SIGNING_SECRET');
  });

  it('reports a missing configuration file', async () => {
    const error = await failure(loadConfig({ configFile: 'missing.yaml', env: {}, cwd: directory }));
    expect(error.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(error.message).toBe(
      `cannot read configuration file ${join(directory, 'missing.yaml')}: no such file`,
    );
  });

  it('reports broken YAML with its position', async () => {
    const path = await file('broken.yaml', 'log:\n  level: [info\n');
    const error = await failure(loadConfig({ configFile: path, env: {}, cwd: directory }));
    expect(error.code).toBe('CONFIG_PARSE_FAILED');
    expect(error.message).toMatch(new RegExp(`^${path} is not valid YAML: .*line`));
  });

  it('rejects a file whose top level is not a mapping', async () => {
    const path = await file('list.yaml', '- log\n- redis\n');
    const error = await failure(loadConfig({ configFile: path, env: {}, cwd: directory }));
    expect(error.code).toBe('CONFIG_INVALID');
  });

  it('accepts an empty file', async () => {
    const path = await file('empty.yaml', '# nothing yet\n');
    const { config } = await loadConfig({ configFile: path, env: {}, cwd: directory });
    expect(config.log.level).toBe('info');
  });
});

describe('config/example.yaml', () => {
  const examplePath = join(packageRoot, 'config', 'example.yaml');

  it('is a valid configuration', async () => {
    const { config } = await loadConfig({ configFile: examplePath, env: {}, cwd: directory });
    expect(config.models.instruct.bundle).toBe('/models/emu-instruct');
  });

  it('explains every key, and every secret by its environment variable', async () => {
    const text = await readFile(examplePath, 'utf8');
    for (const key of listConfigKeys()) {
      const leaf = key.split('.').at(-1) as string;
      const variable = `EMU_BOT_${key
        .split('.')
        .map((part) => part.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase())
        .join('__')}`;
      expect(text.includes(`${leaf}:`) || text.includes(variable), key).toBe(true);
    }
  });
});
