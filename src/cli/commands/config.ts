import type { Command } from 'commander';
import { renderConfig } from '../../config/index.js';
import type { CommandRunner } from '../context.js';

export function registerConfigCommand(program: Command, run: CommandRunner): void {
  program
    .command('config')
    .description('print the effective configuration and where each value came from (secrets redacted)')
    .option('--json', 'print JSON instead of commented YAML')
    .action((options: { json?: boolean }) =>
      run(async ({ io, loaded }) => {
        io.stdout.write(renderConfig(loaded, options.json === true ? 'json' : 'yaml'));
        return 0;
      }),
    );
}
