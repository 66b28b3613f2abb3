import type { Config } from '../../config/index.js';
import {
  type BundleDirectoryState,
  inspectBundleDirectory,
  type ModelKind,
  manifestFileName,
} from '../../engine/index.js';
import type { Check, CheckResult } from '../check.js';

const kinds: readonly ModelKind[] = ['instruct', 'pretrain'];

export function bundlesCheck(config: Config): Check {
  return {
    name: 'bundles',
    async run() {
      return Promise.all(
        kinds.map(async (kind) =>
          describe(kind, config.models[kind], await inspectBundleDirectory(config.models[kind].bundle)),
        ),
      );
    },
  };
}

function describe(
  kind: ModelKind,
  model: Config['models'][ModelKind],
  state: BundleDirectoryState,
): CheckResult {
  const name = `bundle (${kind})`;
  const path = model.bundle;
  const fix = model.bundleIsBuiltIn
    ? 'this install has no bundled tiny model yet; set models.' +
      kind +
      '.bundle to a bundle written by tools/export.py'
    : `set models.${kind}.bundle to a directory written by python3 tools/export.py`;
  switch (state.kind) {
    case 'present':
      return { name, status: 'ok', summary: `${path} is readable and has ${manifestFileName}` };
    case 'missing':
      return { name, status: 'fail', summary: `${path} does not exist`, fix };
    case 'not-a-directory':
      return { name, status: 'fail', summary: `${path} is not a directory`, fix };
    case 'unreadable':
      return {
        name,
        status: 'fail',
        summary: `${path} cannot be read (${state.reason})`,
        fix: 'give the user running emu-bot read access to it',
      };
    case 'no-manifest':
      return { name, status: 'fail', summary: `${path} has no ${manifestFileName}`, fix };
  }
}
