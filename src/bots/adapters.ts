import type { AdapterFactory } from '../cli/commands/bot.js';
import { createSlackAdapter } from './slack/index.js';

/** The platform adapters a bot process runs, as the configuration turns them on. */
export const createPlatformAdapters: AdapterFactory = (config, logger) => [
  ...(config.slack.enabled ? [createSlackAdapter(config, logger)] : []),
];
