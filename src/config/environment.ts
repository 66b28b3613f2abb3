import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { EmuBotError, Secret } from '../core/index.js';
import { type SecretKey, secretKeys } from './schema.js';
import { closestName } from './suggest.js';

/**
 * The naming rule for environment overrides: `EMU_BOT_` followed by the key's path, each part
 * in UPPER_SNAKE_CASE, parts joined by a double underscore. `log.level` is `EMU_BOT_LOG__LEVEL`,
 * `shutdown.deadlineMs` is `EMU_BOT_SHUTDOWN__DEADLINE_MS`. A secret key may instead name a file
 * holding the secret with the suffix `_FILE` (`EMU_BOT_DISCORD__TOKEN_FILE=/run/secrets/discord`).
 */
export const environmentPrefix = 'EMU_BOT_';

/** Names the configuration file to layer over the defaults; not itself a key. */
export const configFileVariable = 'EMU_BOT_CONFIG';

const fileSuffix = '_FILE';

export function environmentVariableFor(key: string): string {
  const parts = key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return environmentPrefix + parts.join('__');
}

export interface EnvironmentValue {
  readonly key: string;
  readonly value: unknown;
  /** The variable the value came from, for messages and `emu-bot config`. */
  readonly variable: string;
}

function isSecretKey(key: string): key is SecretKey {
  return (secretKeys as readonly string[]).includes(key);
}

/**
 * Reads every `EMU_BOT_*` variable into key/value pairs. Plain values are read as YAML scalars
 * (so `true`, `8` and `null` get their types and the schema can check them); secrets stay
 * strings, wrapped in `Secret`. An `EMU_BOT_*` name that matches no key is an error: a typo
 * would otherwise be silently ignored.
 */
export async function readEnvironment(
  env: NodeJS.ProcessEnv,
  keys: readonly string[],
): Promise<EnvironmentValue[]> {
  const keyByVariable = new Map(keys.map((key) => [environmentVariableFor(key), key]));
  const values: EnvironmentValue[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(environmentPrefix) || variable === configFileVariable || raw === undefined) {
      continue;
    }
    const directKey = keyByVariable.get(variable);
    if (directKey !== undefined) {
      values.push(readValue(directKey, variable, raw, env));
      continue;
    }
    const fileKey = variable.endsWith(fileSuffix)
      ? keyByVariable.get(variable.slice(0, -fileSuffix.length))
      : undefined;
    if (fileKey !== undefined && isSecretKey(fileKey)) {
      values.push({ key: fileKey, value: await readSecretFile(variable, raw), variable });
      continue;
    }
    throw unknownVariable(variable, [...keyByVariable.keys()]);
  }
  return values;
}

function readValue(key: string, variable: string, raw: string, env: NodeJS.ProcessEnv): EnvironmentValue {
  if (isSecretKey(key)) {
    if (env[variable + fileSuffix] !== undefined) {
      throw new EmuBotError(
        'CONFIG_INVALID',
        `both ${variable} and ${variable}${fileSuffix} are set; keep one of them`,
      );
    }
    return { key, value: new Secret(raw), variable };
  }
  try {
    return { key, value: raw === '' ? '' : parseYaml(raw), variable };
  } catch {
    // Not a valid YAML scalar (for example an unbalanced quote): take the text as it is.
    return { key, value: raw, variable };
  }
}

async function readSecretFile(variable: string, path: string): Promise<Secret> {
  try {
    // Files written by editors and `echo` end in a newline that is never part of the secret.
    const text = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    if (text === '') throw new Error('the file is empty');
    return new Secret(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^[A-Z]+: /, '') : String(error);
    throw new EmuBotError(
      'SECRET_FILE_UNREADABLE',
      `${variable} names ${path}, which cannot be used: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

function unknownVariable(variable: string, known: string[]): EmuBotError {
  const suggestion = closestName(variable, known);
  const hint = suggestion === undefined ? '' : ` Did you mean ${suggestion}?`;
  return new EmuBotError(
    'CONFIG_INVALID',
    `environment variable ${variable} matches no configuration key.${hint} See the configuration section of the README for the naming rule.`,
  );
}
