import { describe, expect, it } from 'vitest';
import { checkPlatformCredentials } from '../../src/bots/index.js';
import { loadConfig } from '../../src/config/index.js';

async function findings(env: NodeJS.ProcessEnv) {
  const { config } = await loadConfig({ env, cwd: '/' });
  return checkPlatformCredentials(config);
}

describe('checkPlatformCredentials', () => {
  it('accepts tokens of the right shape', async () => {
    expect(
      await findings({
        EMU_BOT_DISCORD__ENABLED: 'true',
        EMU_BOT_DISCORD__TOKEN: 'MTA5ODc2NTQzMjE.GhIjKl.abcdefghijklmnopqrstuvwxyz_-0123',
        EMU_BOT_SLACK__ENABLED: 'true',
        EMU_BOT_SLACK__BOT_TOKEN: 'xoxb-1-2-abc',
        EMU_BOT_SLACK__APP_TOKEN: 'xapp-1-A-abc',
      }),
    ).toEqual([]);
  });

  it('flags swapped Slack tokens and a Discord client secret, naming keys only', async () => {
    const result = await findings({
      EMU_BOT_DISCORD__ENABLED: 'true',
      EMU_BOT_DISCORD__TOKEN: 'client-secret-without-dots',
      EMU_BOT_SLACK__ENABLED: 'true',
      EMU_BOT_SLACK__BOT_TOKEN: 'xapp-1-A-abc',
      EMU_BOT_SLACK__APP_TOKEN: 'xoxb-1-2-abc',
    });
    expect(result.map((finding) => finding.key)).toEqual([
      'discord.token',
      'slack.botToken',
      'slack.appToken',
    ]);
    expect(JSON.stringify(result)).not.toMatch(/client-secret|xapp-1|xoxb-1/);
  });

  it('does not ask for an app token in HTTP mode', async () => {
    const result = await findings({
      EMU_BOT_SLACK__ENABLED: 'true',
      EMU_BOT_SLACK__MODE: 'http',
      EMU_BOT_SLACK__BOT_TOKEN: 'xoxb-1',
      EMU_BOT_SLACK__SIGNING_SECRET: 'abc',
    });
    expect(result).toEqual([]);
  });
});
