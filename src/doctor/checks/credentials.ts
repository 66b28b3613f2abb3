import { checkPlatformCredentials } from '../../bots/index.js';
import type { Config } from '../../config/index.js';
import { environmentVariableFor } from '../../config/index.js';
import type { Check } from '../check.js';

export function credentialsCheck(config: Config): Check {
  return {
    name: 'credentials',
    async run() {
      const enabled = [
        config.discord.enabled ? 'discord' : '',
        config.slack.enabled ? `slack (${config.slack.mode})` : '',
      ].filter((platform) => platform !== '');
      if (enabled.length === 0) {
        return [
          {
            name: 'platforms',
            status: 'ok',
            summary: 'no chat platform enabled (discord.enabled, slack.enabled)',
          },
        ];
      }
      const findings = checkPlatformCredentials(config);
      if (findings.length === 0) {
        return [
          { name: 'platforms', status: 'ok', summary: `credentials present for ${enabled.join(', ')}` },
        ];
      }
      return findings.map((finding) => ({
        name: 'platforms',
        status: 'warn' as const,
        summary: `${finding.key} ${finding.problem}`,
        fix: `check the value of ${environmentVariableFor(finding.key)}`,
      }));
    },
  };
}
