import { Client, GatewayIntentBits, Partials } from 'discord.js';
import type { Config } from '../../config/index.js';

/**
 * The gateway intents the bot needs, and why (docs/discord.md):
 * Guilds - servers, channels and threads in the cache (thread owners, parents, NSFW flags);
 * GuildMessages and DirectMessages - the messages that mention or reply to the bot;
 * MessageContent - the text and attachments of those messages and of the thread history
 * (a privileged intent, switched on in the Developer Portal).
 */
export const intents = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.MessageContent,
];

export function createClient(settings: Config['discord']): Client {
  return new Client({
    intents,
    // Direct-message channels are never cached before their first message arrives.
    partials: [Partials.Channel],
    rest: { api: settings.apiUrl, cdn: settings.cdnUrl },
    // Nothing the bot posts should ping anyone unless it says so (the person who asked).
    allowedMentions: { parse: [] },
  });
}
