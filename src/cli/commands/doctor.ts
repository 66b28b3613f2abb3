import type { Command } from 'commander';
import { defaultChecks, formatReport, runChecks } from '../../doctor/index.js';
import type { CommandRunner } from '../context.js';

export function registerDoctorCommand(program: Command, run: CommandRunner): void {
  program
    .command('doctor')
    .description(
      'check the configuration, Redis, ffmpeg and the model bundles, and say how to fix what is wrong',
    )
    .option('--json', 'print the results as JSON')
    .addHelpText('after', '\nExits with 0 when every check passes and 1 when any fails.')
    .action((options: { json?: boolean }) =>
      run(async ({ io, loaded, signal }) => {
        const results = await runChecks(defaultChecks(loaded), signal);
        io.stdout.write(
          options.json === true ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results),
        );
        return results.some((result) => result.status === 'fail') ? 1 : 0;
      }),
    );
}
