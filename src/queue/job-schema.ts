import { z } from 'zod';
import type { Config } from '../config/index.js';
import { EmuBotError } from '../core/index.js';
import type { JobData, JobOrigin, JobRequest } from './job-types.js';

type PayloadLimits = Config['queue']['payload'];

const identifier = z.string().regex(/^[\w.:@-]{1,128}$/, 'expected 1 to 128 letters, digits or ._:@-');

function originSchema(limits: PayloadLimits) {
  return z.strictObject({
    platform: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a short lower-case name'),
    userId: identifier,
    serverId: identifier.nullable(),
    reference: z.string().refine((text) => Buffer.byteLength(text) <= limits.maxReferenceBytes, {
      message: `expected at most ${limits.maxReferenceBytes} bytes (queue.payload.maxReferenceBytes)`,
    }),
  });
}

function textSettings(limits: PayloadLimits) {
  return z.strictObject({
    maxNewTokens: z.number().int().min(1).max(limits.maxNewTokens),
    numBeams: z.number().int().min(1).max(16),
    lengthPenalty: z.number().finite(),
    earlyStopping: z.boolean().optional(),
    minLength: z.number().int().min(0),
    repetitionPenalty: z.number().positive().finite(),
    sampling: z
      .strictObject({
        temperature: z.number().positive().finite(),
        topK: z.number().int().min(0),
        topP: z.number().gt(0).max(1),
        seed: z.number().int().min(0),
      })
      .optional(),
  });
}

function imageSettings(limits: PayloadLimits) {
  const side = z.number().int().min(8).max(limits.maxImageSide).multipleOf(8);
  return z.strictObject({
    seed: z.number().int().min(0),
    steps: z.number().int().min(1).max(limits.maxSteps),
    guidanceScale: z.number().min(0).finite().optional(),
    width: side.optional(),
    height: side.optional(),
    scheduler: z.enum(['pndm', 'ddim']).optional(),
  });
}

function imagesSchema(limits: PayloadLimits) {
  const image = z
    .strictObject({
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      data: z.instanceof(Uint8Array),
    })
    .refine((rgb) => rgb.data.byteLength === rgb.width * rgb.height * 3, {
      message: 'expected width x height x 3 bytes of RGB',
    })
    .refine((rgb) => rgb.data.byteLength <= limits.maxImageBytes, {
      message: `expected at most ${limits.maxImageBytes} bytes (queue.payload.maxImageBytes)`,
    });
  return z.array(image).max(limits.maxImages);
}

function promptSchema(limits: PayloadLimits) {
  return z.string().min(1).max(limits.maxPromptChars);
}

/** The schema of a request handed to `JobClient.enqueue`, with the configured caps. */
export function jobRequestSchema(limits: PayloadLimits) {
  const common = { origin: originSchema(limits), priority: z.enum(['interactive', 'bulk']).optional() };
  const images = imagesSchema(limits);
  const prompt = promptSchema(limits);
  return z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('text'),
      ...common,
      request: z.strictObject({
        model: z.enum(['instruct', 'pretrain']),
        prompt,
        images,
        settings: textSettings(limits),
      }),
    }),
    z.strictObject({
      kind: z.literal('image'),
      ...common,
      request: z.strictObject({
        model: z.literal('pretrain'),
        prompt,
        images,
        settings: imageSettings(limits),
      }),
    }),
  ]);
}

/** The schema of a job's data as a worker reads it back from Redis. */
export function jobDataSchema(limits: PayloadLimits) {
  return z.strictObject({
    kind: z.enum(['text', 'image']),
    model: z.enum(['instruct', 'pretrain']),
    origin: originSchema(limits),
    priority: z.enum(['interactive', 'bulk']),
    prompt: promptSchema(limits),
    images: z
      .array(z.strictObject({ width: z.number().int(), height: z.number().int() }))
      .max(limits.maxImages),
    settings: z.union([textSettings(limits), imageSettings(limits)]),
    enqueuedAt: z.number().int(),
  });
}

const imageTag = '[IMG]';
const systemMessageImage = '[IMG]ImageContent[/IMG]';

/** Schemas are built once per configuration: building them costs more than checking a job. */
const requestSchemas = new WeakMap<PayloadLimits, ReturnType<typeof jobRequestSchema>>();
const dataSchemas = new WeakMap<PayloadLimits, ReturnType<typeof jobDataSchema>>();

function cached<T>(
  cache: WeakMap<PayloadLimits, T>,
  limits: PayloadLimits,
  build: (limits: PayloadLimits) => T,
): T {
  let schema = cache.get(limits);
  if (schema === undefined) {
    schema = build(limits);
    cache.set(limits, schema);
  }
  return schema;
}

/** Checks a request against the schema and the caps; throws JOB_INVALID naming every problem. */
export function validateJobRequest(value: unknown, limits: PayloadLimits): JobRequest {
  const parsed = cached(requestSchemas, limits, jobRequestSchema).safeParse(value);
  if (!parsed.success) throw invalid(parsed.error.issues);
  const { request } = parsed.data;
  // The reference's image and video system messages name `[IMG]ImageContent[/IMG]` literally; no image goes there.
  const tags = request.prompt.replaceAll(systemMessageImage, '').split(imageTag).length - 1;
  if (tags !== request.images.length) {
    throw new EmuBotError(
      'JOB_INVALID',
      `request.prompt has ${tags} ${imageTag} placeholder(s) but ${request.images.length} image(s) were given`,
    );
  }
  return parsed.data as JobRequest;
}

/** Reads a job's data back; a worker fails a malformed job without retrying it. */
export function validateJobData(value: unknown, limits: PayloadLimits): JobData {
  const parsed = cached(dataSchemas, limits, jobDataSchema).safeParse(value);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return parsed.data as JobData;
}

/** The origin of a job whose data may be malformed, so that its sender can still be told. */
export function readOrigin(value: unknown, limits: PayloadLimits): JobOrigin | undefined {
  const origin = (value as { origin?: unknown } | null)?.origin;
  const parsed = originSchema(limits).safeParse(origin);
  return parsed.success ? parsed.data : undefined;
}

function invalid(issues: readonly z.core.$ZodIssue[]): EmuBotError {
  const problems = issues.map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`);
  return new EmuBotError('JOB_INVALID', `malformed job: ${problems.join('; ')}`);
}
