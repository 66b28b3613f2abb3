import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EmuTokenizer, readManifest } from '../../engine/index.js';
import type { CommandRunner } from '../context.js';

export function registerTokenizeCommand(program: Command, run: CommandRunner): void {
  program
    .command('tokenize')
    .description("print a text's token ids as one JSON array, with BOS, as the model's tokenizer gives them")
    .option('--bundle <dir>', 'the model bundle whose tokenizer to use (default: models.instruct.bundle)')
    .argument('<text>', 'the text; special tokens such as [IMG] are recognised')
    .action((text: string, options: { bundle?: string }) =>
      run(async ({ io, loaded }) => {
        const directory =
          options.bundle === undefined
            ? loaded.config.models.instruct.bundle
            : resolve(io.cwd, options.bundle);
        const manifest = await readManifest(directory);
        const tokenizer = await EmuTokenizer.fromFile(resolve(directory, manifest.tokenizer));
        io.stdout.write(`${JSON.stringify(tokenizer.encode(text, { addBos: true }))}\n`);
        return 0;
      }),
    );
}
