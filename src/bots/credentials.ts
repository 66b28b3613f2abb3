import type { Config } from '../config/index.js';
import type { Secret } from '../core/index.js';

export interface CredentialFinding {
  readonly key: string;
  readonly problem: string;
}

interface Expectation {
  readonly key: string;
  readonly secret: Secret | undefined;
  readonly looksRight: (value: string) => boolean;
  readonly expected: string;
}

/**
 * Catches the common mix-ups (an app token where the bot token belongs, a client secret instead
 * of a bot token) before a platform rejects them with a less helpful 401. Never echoes the value.
 */
export function checkPlatformCredentials(config: Config): CredentialFinding[] {
  const expectations: Expectation[] = [];
  if (config.discord.enabled) {
    expectations.push({
      key: 'discord.token',
      secret: config.discord.token,
      // A bot token is three dot-separated base64url parts: user id, timestamp, HMAC.
      looksRight: (value) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value),
      expected: 'a bot token of three dot-separated parts (Developer Portal > Bot > Reset Token)',
    });
  }
  if (config.slack.enabled) {
    expectations.push({
      key: 'slack.botToken',
      secret: config.slack.botToken,
      looksRight: (value) => value.startsWith('xoxb-'),
      expected: 'a bot token starting with xoxb- (OAuth & Permissions)',
    });
    if (config.slack.mode === 'socket') {
      expectations.push({
        key: 'slack.appToken',
        secret: config.slack.appToken,
        looksRight: (value) => value.startsWith('xapp-'),
        expected: 'an app-level token starting with xapp- (Basic Information > App-Level Tokens)',
      });
    }
  }
  return expectations
    .filter(({ secret, looksRight }) => secret !== undefined && !looksRight(secret.reveal()))
    .map(({ key, expected }) => ({ key, problem: `does not look like ${expected}` }));
}
