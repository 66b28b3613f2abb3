import { afterEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../../helpers/cli.js';
import { DiscordSimulation } from '../../helpers/discord-simulation/index.js';

const simulations: DiscordSimulation[] = [];
afterEach(async () => {
  for (const simulation of simulations.splice(0)) await simulation.close();
});

async function register(args: string[]) {
  const simulation = await DiscordSimulation.start();
  simulations.push(simulation);
  const env = {
    EMU_BOT_DISCORD__TOKEN: simulation.token,
    EMU_BOT_DISCORD__API_URL: simulation.apiUrl,
    EMU_BOT_LOG__LEVEL: 'silent',
  };
  return { simulation, result: await runInProcess(['register-commands', ...args], env) };
}

describe('emu-bot register-commands', () => {
  it('registers the slash commands and Ask Emu globally', async () => {
    const { simulation, result } = await register([]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'registered 6 commands globally: imagine, blend, describe, ask, queue, Ask Emu\n',
    );
    const names = (simulation.store.commands.get('global') as Array<{ name: string }>).map(
      (command) => command.name,
    );
    expect(names).toEqual(['imagine', 'blend', 'describe', 'ask', 'queue', 'Ask Emu']);
  });

  it('registers them in one server with --guild', async () => {
    const { simulation, result } = await register(['--guild', '1234']);
    expect(result.code).toBe(0);
    expect(simulation.store.commands.get('1234')).toHaveLength(6);
    expect(simulation.store.commands.has('global')).toBe(false);
  });

  it('refuses a server id that is not one, with exit 2', async () => {
    const { result } = await register(['--guild', 'general']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[USAGE\]: --guild takes a server id/);
  });
});
