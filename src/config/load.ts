import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { EmuBotError, packageRoot } from '../core/index.js';
import type { ModelKind } from '../engine/requests.js';
import { configFileVariable, environmentVariableFor, readEnvironment } from './environment.js';
import { type Config, configSchema, listConfigKeys, pathKeys, secretKeys } from './schema.js';
import { closestName } from './suggest.js';

export const defaultConfigFile = join(packageRoot, 'config', 'default.yaml');

export interface LoadConfigOptions {
  /** A YAML file layered over the defaults; falls back to `EMU_BOT_CONFIG`. */
  readonly configFile?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Relative paths given in the environment are taken from here. */
  readonly cwd?: string;
}

export interface LoadedConfig {
  readonly config: Config;
  /** Where each key's value came from: a file path or an environment variable name. */
  readonly sources: ReadonlyMap<string, string>;
}

type Tree = Record<string, unknown>;

/**
 * Builds the one configuration of the process: defaults, then the configuration file, then the
 * environment, validated once into a frozen object. Every failure is an EmuBotError whose
 * message names the key, where its value came from, what was found and what is expected.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = options.configFile ?? env[configFileVariable];
  const layers = new Layers();

  layers.apply(await readYamlFile(defaultConfigFile), defaultConfigFile);
  if (configFile !== undefined && configFile !== '') {
    const path = resolve(cwd, configFile);
    const tree = await readYamlFile(path);
    rejectSecrets(tree, path);
    layers.apply(tree, path);
  }
  for (const { key, value, variable } of await readEnvironment(env, listConfigKeys())) {
    layers.set(key, value, variable);
  }

  resolveRelativePaths(layers, cwd);
  const parsed = configSchema.safeParse(layers.tree);
  if (!parsed.success) throw invalidConfig(parsed.error.issues, layers);
  const config = finish(parsed.data, layers);
  checkCombinations(config);
  return { config: deepFreeze(config), sources: layers.sources };
}

class Layers {
  readonly tree: Tree = {};
  readonly sources = new Map<string, string>();

  apply(tree: Tree, source: string, prefix: string[] = []): void {
    for (const [name, value] of Object.entries(tree)) {
      const path = [...prefix, name];
      if (isTree(value) && Object.keys(value).length > 0) this.apply(value, source, path);
      else this.set(path.join('.'), value, source);
    }
  }

  set(key: string, value: unknown, source: string): void {
    const parts = key.split('.');
    let node = this.tree;
    for (const part of parts.slice(0, -1)) {
      const child = node[part];
      if (!isTree(child)) node[part] = {};
      node = node[part] as Tree;
    }
    node[parts[parts.length - 1] as string] = value;
    this.sources.set(key, source);
  }

  get(path: readonly PropertyKey[]): unknown {
    let node: unknown = this.tree;
    for (const part of path) {
      if (!isTree(node)) return undefined;
      node = node[String(part)];
    }
    return node;
  }
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readYamlFile(path: string): Promise<Tree> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new EmuBotError('CONFIG_FILE_UNREADABLE', `cannot read configuration file ${path}: ${reason}`, {
      cause: error,
    });
  }
  let tree: unknown;
  try {
    tree = parseYaml(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new EmuBotError('CONFIG_PARSE_FAILED', `${path} is not valid YAML: ${detail}`, { cause: error });
  }
  if (tree === null || tree === undefined) return {};
  if (!isTree(tree)) {
    throw new EmuBotError('CONFIG_INVALID', `${path} must hold a mapping of keys at the top level`);
  }
  return tree;
}

function rejectSecrets(tree: Tree, path: string): void {
  const layers = new Layers();
  layers.apply(tree, path);
  for (const key of secretKeys) {
    if (layers.sources.has(key)) {
      const variable = environmentVariableFor(key);
      throw new EmuBotError(
        'CONFIG_SECRET_IN_FILE',
        `${path} sets ${key}, a secret; remove it and set ${variable} (or ${variable}_FILE naming a file that holds it)`,
      );
    }
  }
}

/** A relative path is taken from the file that set it, or the working directory for the environment. */
function resolveRelativePaths(layers: Layers, cwd: string): void {
  for (const key of pathKeys) {
    const value = layers.get(key.split('.'));
    const source = layers.sources.get(key);
    if (typeof value !== 'string' || isAbsolute(value) || source === undefined) continue;
    const base = source.startsWith('EMU_BOT_') ? cwd : dirname(source);
    layers.set(key, resolve(base, value), source);
  }
}

function finish(parsed: z.infer<typeof configSchema>, layers: Layers): Config {
  const bundle = (kind: ModelKind) => {
    const configured = parsed.models[kind].bundle;
    if (configured !== null) return { bundle: configured, bundleIsBuiltIn: false };
    layers.sources.set(`models.${kind}.bundle`, defaultConfigFile);
    return { bundle: join(packageRoot, 'bundles', `tiny-${kind}`), bundleIsBuiltIn: true };
  };
  return { ...parsed, models: { instruct: bundle('instruct'), pretrain: bundle('pretrain') } };
}

/** Options that are each valid but useless together fail here, saying what to set. */
function checkCombinations(config: Config): void {
  const missing = (key: (typeof secretKeys)[number], because: string) => {
    const variable = environmentVariableFor(key);
    return new EmuBotError(
      'CONFIG_INVALID',
      `${because}, but ${key} is not set: set ${variable} (or ${variable}_FILE naming a file that holds it)`,
    );
  };
  if (config.discord.enabled && config.discord.token === undefined) {
    throw missing('discord.token', 'discord.enabled is true');
  }
  if (config.slack.enabled) {
    if (config.slack.botToken === undefined) throw missing('slack.botToken', 'slack.enabled is true');
    if (config.slack.mode === 'socket' && config.slack.appToken === undefined) {
      throw missing('slack.appToken', 'slack.mode is "socket"');
    }
    if (config.slack.mode === 'http' && config.slack.signingSecret === undefined) {
      throw missing('slack.signingSecret', 'slack.mode is "http"');
    }
  }
}

function invalidConfig(issues: readonly z.core.$ZodIssue[], layers: Layers): EmuBotError {
  const problems = issues.map((issue) => describeIssue(issue, layers));
  return new EmuBotError('CONFIG_INVALID', problems.join('; '));
}

function describeIssue(issue: z.core.$ZodIssue, layers: Layers): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((name) => {
        const key = [...issue.path, name].join('.');
        const known = listConfigKeys();
        const suggestion = closestName(key, known);
        const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
        return `unknown key ${key} in ${sourceOf(key, layers)}${hint}`;
      })
      .join('; ');
  }
  const key = issue.path.join('.');
  const found = describeValue(layers.get(issue.path));
  return `${key} (from ${sourceOf(key, layers)}): found ${found}, expected ${expectation(issue)}`;
}

function sourceOf(key: string, layers: Layers): string {
  for (let parts = key.split('.'); parts.length > 0; parts = parts.slice(0, -1)) {
    const source = layers.sources.get(parts.join('.'));
    if (source !== undefined) return source;
  }
  // An unknown key set as a mapping: its children carry the source.
  for (const [candidate, source] of layers.sources) {
    if (candidate.startsWith(`${key}.`)) return source;
  }
  return 'the configuration';
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'object' ? 'a mapping of keys' : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'too_small':
      return `${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
    default:
      return issue.message.replace(/^Invalid input: /, '').replace(/^expected /, '');
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isTree(value)) return 'a mapping';
  if (typeof value === 'string') return `"${withoutCredentials(value)}" (a string)`;
  return `${String(value)} (a ${typeof value})`;
}

/** A URL's password is never echoed back, even when it is the value at fault. */
function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:[redacted]@');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
