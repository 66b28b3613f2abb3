import { EmuBotError } from '../../core/index.js';

export interface ImagineArguments {
  readonly prompt: string;
  readonly count: number;
  readonly seed: number | null;
  readonly steps: number | null;
  readonly guidance: number | null;
}

export const imagineUsage =
  'Usage: `/imagine a red circle on a blue square [count=1-4] [seed=N] [steps=N] [guidance=X]`';

const option = /(?:^|\s)(?:--)?(count|seed|steps|guidance)(?:=|:|\s+)(\S+)/gi;

/**
 * `/imagine` text: the prompt with optional `count=`, `seed=`, `steps=` and `guidance=` (also
 * written `--count 2` or `count:2`) anywhere in it. Throws REQUEST_UNSUPPORTED with the usage.
 */
export function parseImagine(text: string, maxSteps: number): ImagineArguments {
  const values = new Map<string, string>();
  const prompt = text
    .replace(option, (_, name: string, value: string) => {
      values.set(name.toLowerCase(), value);
      return ' ';
    })
    .replace(/\s+/g, ' ')
    .trim();
  if (prompt === '') throw usage('the prompt is empty');
  const count = integer(values.get('count'), 'count', 1, 4) ?? 1;
  return {
    prompt,
    count,
    seed: integer(values.get('seed'), 'seed', 0, 2 ** 31 - 1),
    steps: integer(values.get('steps'), 'steps', 1, maxSteps),
    guidance: number(values.get('guidance'), 'guidance', 0, 50),
  };
}

export type EmuCommand =
  | { readonly name: 'ask'; readonly question: string }
  | { readonly name: 'describe' }
  | { readonly name: 'queue' }
  | { readonly name: 'help' };

export const emuUsage =
  '`/emu ask <question>` asks Emu in this channel, `/emu describe` describes the newest image here, `/emu queue` shows your requests.';

/** `/emu` text: `ask <question>`, `describe`, `queue`, or anything else for help. */
export function parseEmu(text: string): EmuCommand {
  const [word = '', ...rest] = text.trim().split(/\s+/);
  const remainder = rest.join(' ');
  switch (word.toLowerCase()) {
    case 'ask':
      return remainder === '' ? { name: 'help' } : { name: 'ask', question: remainder };
    case 'describe':
      return { name: 'describe' };
    case 'queue':
      return { name: 'queue' };
    default:
      return { name: 'help' };
  }
}

function integer(value: string | undefined, name: string, min: number, max: number): number | null {
  if (value === undefined) return null;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max)
    throw usage(`${name} must be a whole number from ${min} to ${max}`);
  return parsed;
}

function number(value: string | undefined, name: string, min: number, max: number): number | null {
  if (value === undefined) return null;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max)
    throw usage(`${name} must be a number from ${min} to ${max}`);
  return parsed;
}

function usage(problem: string): EmuBotError {
  return new EmuBotError('REQUEST_UNSUPPORTED', `/imagine: ${problem}`, {
    userMessage: `${problem[0]?.toUpperCase()}${problem.slice(1)}. ${imagineUsage}`,
  });
}
