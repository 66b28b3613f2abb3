import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultChecks, formatReport, runChecks } from '../../doctor/index.js';
import type { CommandRunner } from '../context.js';
import { engineSessionSettings } from '../engine-settings.js';

export function registerDoctorCommand(program: Command, run: CommandRunner): void {
  program
    .command('doctor')
    .description(
      'check the configuration, Redis, ffmpeg and the model bundles, and say how to fix what is wrong',
    )
    .option('--json', 'print the results as JSON')
    .option(
      '--bundle <dir>',
      "load this model bundle and run its self-check, printing each output's max abs error",
    )
    .addHelpText('after', '\nExits with 0 when every check passes and 1 when any fails.')
    .action((options: { json?: boolean; bundle?: string }) =>
      run(async ({ io, loaded, signal }) => {
        const bundle =
          options.bundle === undefined
            ? {}
            : {
                bundle: {
                  directory: resolve(io.cwd, options.bundle),
                  settings: engineSessionSettings(loaded.config.engine),
                },
              };
        const results = await runChecks(defaultChecks(loaded, bundle), signal);
        io.stdout.write(
          options.json === true ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results),
        );
        return results.some((result) => result.status === 'fail') ? 1 : 0;
      }),
    );
}
