import { z } from 'zod';
import { Secret } from '../core/index.js';
import type { ModelKind } from '../engine/requests.js';

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

/** A positive count, capped so that a typo cannot ask for billions. */
const count = z.number().int().positive().max(100_000_000);
const milliseconds = z
  .number()
  .int()
  .positive()
  .max(7 * 24 * 3_600_000);

const hostName = z
  .string()
  .regex(
    /^[a-z0-9.-]+$|^[0-9a-f:]+$/,
    'expected a lower-case host name or IP address, without scheme or port',
  );

const regularExpression = z.string().refine((pattern) => {
  try {
    new RegExp(pattern, 'iu');
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

/** Where generated images may be posted. */
const imageRule = z.enum(['everywhere', 'nsfw-channels', 'never']);

/** `null` selects the tiny model bundled with emu-bot. */
const bundlePath = z.string().min(1).nullable();

export const configSchema = z.strictObject({
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    format: z.enum(['auto', 'pretty', 'json']),
  }),
  redis: z.strictObject({
    url: redisUrl,
    /**
     * Seed nodes of a Redis Cluster (`redis://host:port`, `rediss://` for TLS); when any are
     * given, emu-bot connects to the cluster through them and `url` is not used.
     */
    clusterNodes: z.array(redisUrl).max(100),
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
    ffprobePath: z.string().min(1),
    /** Per attachment, before decoding. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .max(2 ** 31),
    /** Width x height of a still image or frame, checked before pixels are allocated. */
    maxPixels: z
      .number()
      .int()
      .positive()
      .max(2 ** 31),
    /** Frames in an animation or video. */
    maxFrames: z.number().int().positive().max(10_000_000),
    maxVideoSeconds: z.number().positive().max(86_400),
    /** Each ffmpeg or ffprobe run is killed after this long. */
    ffmpegTimeoutMs: z.number().int().positive().max(600_000),
  }),
  engine: z.strictObject({
    device: z.enum(['cpu', 'cuda']),
    /** CUDA devices: the decoder's layer range i runs on cudaDeviceIds[i % length]. */
    cudaDeviceIds: z.array(z.number().int().nonnegative()).min(1),
    intraOpThreads: z.number().int().min(0).max(1024),
    interOpThreads: z.number().int().min(0).max(1024),
    graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']),
    /** Decoder rows one batch may hold (a beam-search request takes one row per beam). */
    maxBatchRows: z.number().int().min(1).max(256),
  }),
  attachments: z.strictObject({
    /** Exact host names whose files are fetched, per platform. */
    allowedHosts: z.strictObject({ discord: z.array(hostName), slack: z.array(hostName) }),
    /** Loopback addresses and plain http to them, for the platform simulations in tests only. */
    allowLoopback: z.boolean(),
    maxBytes: z
      .number()
      .int()
      .positive()
      .max(2 ** 31),
    maxConcurrentDownloads: z.number().int().min(1).max(64),
    connectTimeoutMs: z.number().int().positive().max(600_000),
    headersTimeoutMs: z.number().int().positive().max(600_000),
    totalTimeoutMs: z.number().int().positive().max(600_000),
    maxRedirects: z.number().int().min(0).max(10),
  }),
  moderation: z.strictObject({
    blockedWords: z.array(z.string().trim().min(1)),
    /** Regular expressions, matched case-insensitively. */
    blockedPatterns: z.array(regularExpression),
    generatedImages: imageRule,
    /** Channel id -> rule, overriding generatedImages there. */
    channelImageRules: z.record(z.string().min(1), imageRule),
    flaggedImages: z.enum(['refuse', 'blur']),
  }),
  audit: z.strictObject({
    /** JSON-lines files, one per UTC day; null keeps no audit records. */
    directory: z.string().min(1).nullable(),
    retentionDays: z.number().int().min(1).max(3650),
    includePrompts: z.boolean(),
  }),
  discord: z.strictObject({
    enabled: z.boolean(),
    token: secret,
    /** The REST API base (discord.js `rest.api`) and CDN; tests point them at a loopback simulation. */
    apiUrl: z.string().url(),
    cdnUrl: z.string().url(),
    /** Where a mention in a channel is answered: a thread started from the message, or a reply. */
    replyIn: z.enum(['thread', 'inline']),
    /** Server, channel and role ids served; an empty list serves all. A thread counts as its parent channel. */
    allowedServers: z.array(z.string().regex(/^\d+$/, 'expected a Discord id (digits)')),
    allowedChannels: z.array(z.string().regex(/^\d+$/, 'expected a Discord id (digits)')),
    allowedRoles: z.array(z.string().regex(/^\d+$/, 'expected a Discord id (digits)')),
    /** Whether direct messages to the bot are answered. */
    directMessages: z.boolean(),
    /** Greedy answers streamed into the message, or the reference's beam search posted when done. */
    streamAnswers: z.boolean(),
    /** Least time between two edits of one message while a job runs (Discord allows 5 per 5 s per channel). */
    updateIntervalMs: z.number().int().min(100).max(60_000),
    /** Thread messages read as context. */
    historyMessages: z.number().int().min(1).max(100),
    /** How long the buttons on a generated image keep working. */
    buttonTtlDays: z.number().int().min(1).max(365),
  }),
  slack: z.strictObject({
    enabled: z.boolean(),
    mode: z.enum(['socket', 'http']),
    botToken: secret,
    appToken: secret,
    signingSecret: secret,
    /** The Web API base URL, ending in a slash (tests point it at a loopback simulation). */
    apiUrl: z.string().url().endsWith('/'),
    /** HTTP mode: where Slack's signed requests arrive. */
    http: z.strictObject({
      host: z.string().min(1),
      port: z.number().int().min(0).max(65_535),
      path: z.string().startsWith('/'),
    }),
    /** Team ids (T...) and channel ids (C..., G..., D...) served; empty serves all. */
    allowedWorkspaces: z.array(z.string().min(1)),
    allowedChannels: z.array(z.string().min(1)),
    /** Whether direct messages to the bot are answered. */
    directMessages: z.boolean(),
    /** Greedy answers streamed into the message, or the reference's beam search posted when done. */
    streamAnswers: z.boolean(),
    /** Least time between two edits of one message while a job runs (Slack rate-limits chat.update). */
    updateIntervalMs: z.number().int().min(100).max(60_000),
    /** Thread messages read as context (conversations.replies). */
    historyMessages: z.number().int().min(1).max(1000),
    /** How long the buttons on a generated image keep working. */
    buttonTtlDays: z.number().int().min(1).max(365),
  }),
  admin: z.strictObject({
    token: secret,
  }),
  shutdown: z.strictObject({
    deadlineMs: z.number().int().positive().max(600_000),
  }),
  queue: z.strictObject({
    limits: z.strictObject({
      userQueued: count,
      userRunning: count,
      serverQueued: count,
      serverRunning: count,
    }),
    attempts: z.number().int().min(1).max(10),
    waitTimeoutMs: milliseconds,
    runTimeoutMs: milliseconds,
    resultTtlMs: milliseconds,
    statusIntervalMs: milliseconds,
    overloadWaitMs: milliseconds,
    noWorkerGraceMs: milliseconds,
    payload: z.strictObject({
      maxPromptChars: count,
      maxImages: z.number().int().min(0).max(64),
      maxImageBytes: count,
      maxNewTokens: count,
      maxSteps: count,
      maxImageSide: count,
      maxReferenceBytes: count,
    }),
  }),
  worker: z.strictObject({
    models: z.enum(['instruct', 'pretrain', 'both']),
    batchSize: z.number().int().min(1).max(64),
    batchWindowMs: z.number().int().min(0).max(1000),
    heartbeatMs: milliseconds,
    lockDurationMs: milliseconds,
    stalledIntervalMs: milliseconds,
    maxStalledCount: z.number().int().min(0).max(10),
    drainMs: milliseconds,
  }),
  operations: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535).nullable(),
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
export const pathKeys = ['models.instruct.bundle', 'models.pretrain.bundle', 'audit.directory'] as const;

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
