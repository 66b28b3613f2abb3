import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscordSimulation } from '../../helpers/discord-simulation/index.js';
import { eventually } from '../../helpers/queue.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connect() {
  const simulation = await DiscordSimulation.start();
  cleanups.push(() => simulation.close());
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    partials: [Partials.Channel],
    rest: { api: simulation.apiUrl, cdn: simulation.cdnUrl },
  });
  cleanups.push(() => client.destroy());
  const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(simulation.token);
  await ready;
  return { simulation, client };
}

describe('the Discord simulation', () => {
  it('lets the real discord.js connect, see its guild and receive a message', async () => {
    const { simulation, client } = await connect();
    expect(client.guilds.cache.get(simulation.guild.id)?.name).toBe('Test server');
    const seen = new Promise<string>((resolve) =>
      client.on(Events.MessageCreate, (message) => resolve(message.content)),
    );
    simulation.post({ content: 'hello', mention: true });
    expect(await seen).toBe(`<@${simulation.bot.id}> hello`);
  });

  it('resumes after a dropped connection and replays what was sent meanwhile', async () => {
    const { simulation, client } = await connect();
    const contents: string[] = [];
    client.on(Events.MessageCreate, (message) => contents.push(message.content));
    simulation.gateway.drop();
    simulation.post({ content: 'while down' });
    await eventually(() => contents.includes('while down'));
    expect(simulation.gateway.counters).toMatchObject({ identifies: 1, resumes: 1 });
  });

  it('answers REST calls: send with a file, thread from a message, history', async () => {
    const { simulation, client } = await connect();
    const channel = await client.channels.fetch(simulation.channel.id);
    if (channel === null || !channel.isSendable() || !channel.isTextBased()) throw new Error('no channel');
    const sent = await channel.send({
      content: 'a file',
      files: [{ attachment: Buffer.from('png!'), name: 'a.png' }],
    });
    expect(sent.attachments.first()?.name).toBe('a.png');
    const thread = await sent.startThread({ name: 'talk' });
    expect(thread.id).toBe(sent.id);
    const history = await channel.messages.fetch({ limit: 10 });
    expect(history.map((message) => message.content)).toContain('a file');
    const bytes = await (await fetch(sent.attachments.first()?.url ?? '')).text();
    expect(bytes).toBe('png!');
  });
});
