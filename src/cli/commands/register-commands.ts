import type { Command } from 'commander';
import { REST, Routes } from 'discord.js';
import { commandDefinitions } from '../../bots/discord/index.js';
import { EmuBotError } from '../../core/index.js';
import type { CommandRunner } from '../context.js';

/** `emu-bot register-commands [--guild ID]`: registers the Discord commands, globally or in one server. */
export function registerRegisterCommandsCommand(program: Command, run: CommandRunner): void {
  program
    .command('register-commands')
    .description(
      "register emu-bot's Discord slash commands and its message command, globally or in one server",
    )
    .option(
      '--guild <id>',
      'register in this server only (appears at once; global commands can take up to an hour)',
    )
    .action((options: { guild?: string }) =>
      run(async ({ io, loaded, signal }) => {
        const { discord } = loaded.config;
        if (discord.token === undefined) {
          throw new EmuBotError('CONFIG_INVALID', 'discord.token is not set; set EMU_BOT_DISCORD__TOKEN');
        }
        if (options.guild !== undefined && !/^\d+$/.test(options.guild)) {
          throw new EmuBotError('USAGE', `--guild takes a server id (digits), not "${options.guild}"`);
        }
        const rest = new REST({ api: discord.apiUrl }).setToken(discord.token.reveal());
        const application = (await rest.get(Routes.currentApplication(), { signal })) as { id: string };
        const route =
          options.guild === undefined
            ? Routes.applicationCommands(application.id)
            : Routes.applicationGuildCommands(application.id, options.guild);
        const registered = (await rest.put(route, { body: commandDefinitions, signal })) as Array<{
          name: string;
        }>;
        const where = options.guild === undefined ? 'globally' : `in server ${options.guild}`;
        io.stdout.write(
          `registered ${registered.length} commands ${where}: ${registered.map((command) => command.name).join(', ')}\n`,
        );
        return 0;
      }),
    );
}
