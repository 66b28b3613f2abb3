import type { LoadedConfig } from '../../config/index.js';
import type { Check, CheckResult } from '../check.js';

export function configurationCheck(loaded: LoadedConfig): Check {
  return {
    name: 'configuration',
    async run() {
      const sources = [...new Set(loaded.sources.values())];
      const files = sources.filter((source) => !source.startsWith('EMU_BOT_'));
      const variables = sources.length - files.length;
      const summary = `valid; from ${files.join(', ')}${variables > 0 ? ` and ${variables} environment variable(s)` : ''}`;
      const results: CheckResult[] = [{ name: 'configuration', status: 'ok', summary }];
      if (loaded.config.attachments.allowLoopback) {
        results.push({
          name: 'attachments',
          status: 'warn',
          summary:
            'attachments.allowLoopback is true: attachments may come from loopback addresses over plain http',
          fix: 'that is for the test simulations only; set attachments.allowLoopback to false (the default)',
        });
      }
      return results;
    },
  };
}
