import type { AdapterFactory } from '../cli/commands/bot.js';
import { createDiscordAdapter } from './discord/index.js';
import { createSlackAdapter } from './slack/index.js';

/** The platform adapters a bot process runs, as the configuration turns them on. */
export const createPlatformAdapters: AdapterFactory = (config, logger) => [
  ...(config.discord.enabled ? [createDiscordAdapter(config, logger)] : []),
  ...(config.slack.enabled ? [createSlackAdapter(config, logger)] : []),
];
