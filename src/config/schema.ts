import { z } from 'zod';
import { Secret } from '../core/index.js';

const secret = z.instanceof(Secret).optional();

/** A Redis URL without credentials: the password is a secret and comes from the environment. */
const redisUrl = z
  .string()
  .url()
  .refine((url) => /^rediss?:$/.test(new URL(url).protocol), 'expected a redis:// or rediss:// URL')
  .refine(
    (url) => new URL(url).password === '',
    'expected no password in the URL; set EMU_BOT_REDIS__PASSWORD (or EMU_BOT_REDIS__PASSWORD_FILE) instead',
  );

/** `null` selects the tiny model bundled with emu-bot. */
const bundlePath = z.string().min(1).nullable();

export const configSchema = z.strictObject({
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    format: z.enum(['auto', 'pretty', 'json']),
  }),
  redis: z.strictObject({
    url: redisUrl,
    username: z.string().min(1).nullable(),
    password: secret,
    keyPrefix: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9:_-]+$/, 'expected letters, digits, ":", "_" or "-"'),
  }),
  models: z.strictObject({
    instruct: z.strictObject({ bundle: bundlePath }),
    pretrain: z.strictObject({ bundle: bundlePath }),
  }),
  media: z.strictObject({
    ffmpegPath: z.string().min(1),
  }),
  discord: z.strictObject({
    enabled: z.boolean(),
    token: secret,
  }),
  slack: z.strictObject({
    enabled: z.boolean(),
    mode: z.enum(['socket', 'http']),
    botToken: secret,
    appToken: secret,
    signingSecret: secret,
  }),
  admin: z.strictObject({
    token: secret,
  }),
  shutdown: z.strictObject({
    deadlineMs: z.number().int().positive().max(600_000),
  }),
});

type ParsedConfig = z.infer<typeof configSchema>;

type DeepReadonly<T> = T extends Secret
  ? T
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The validated, frozen configuration; bundle paths are absolute (built-in ones resolved). */
export type Config = DeepReadonly<
  Omit<ParsedConfig, 'models'> & {
    models: Record<ModelKind, { bundle: string; bundleIsBuiltIn: boolean }>;
  }
>;

export type ModelKind = 'instruct' | 'pretrain';

/** Keys whose values are secrets: accepted only from the environment, never from files. */
export const secretKeys = [
  'redis.password',
  'discord.token',
  'slack.botToken',
  'slack.appToken',
  'slack.signingSecret',
  'admin.token',
] as const;

export type SecretKey = (typeof secretKeys)[number];

/** Keys holding filesystem paths; a relative path is taken from the file that set it. */
export const pathKeys = ['models.instruct.bundle', 'models.pretrain.bundle'] as const;

/** Every leaf key of the schema, as dotted paths, in declaration order. */
export function listConfigKeys(): string[] {
  const keys: string[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string): void => {
    for (const [name, field] of Object.entries(shape)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      if (field instanceof z.ZodObject) walk(field.shape as Record<string, z.ZodType>, key);
      else keys.push(key);
    }
  };
  walk(configSchema.shape, '');
  return keys;
}
