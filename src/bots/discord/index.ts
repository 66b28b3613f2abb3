export { createDiscordAdapter, DiscordAdapter } from './adapter.js';
export { intents } from './client.js';
export { askEmuCommand, commandDefinitions } from './commands.js';
