import type { LoadedConfig } from '../../config/index.js';
import type { Check } from '../check.js';

export function configurationCheck(loaded: LoadedConfig): Check {
  return {
    name: 'configuration',
    async run() {
      const sources = [...new Set(loaded.sources.values())];
      const files = sources.filter((source) => !source.startsWith('EMU_BOT_'));
      const variables = sources.length - files.length;
      const summary = `valid; from ${files.join(', ')}${variables > 0 ? ` and ${variables} environment variable(s)` : ''}`;
      return [{ name: 'configuration', status: 'ok', summary }];
    },
  };
}
