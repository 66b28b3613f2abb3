import { z } from 'zod';
import { EmuBotError } from '../../core/index.js';

/**
 * The bundle manifest's schema (docs/bundle-format.md, version 1), validated once at load so
 * that the rest of the engine works with plain, trusted values. Unknown fields are allowed:
 * exporters may add information that an older engine can ignore.
 */

const tensorType = z.enum(['float32', 'float16', 'int64']);

const valueSpec = z.object({
  name: z.string().min(1),
  dtype: tensorType,
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
});

const graphEntry = z.object({
  file: z.string().regex(/^[\w.-]+\.onnx$/, 'expected a file name ending in .onnx, in the bundle directory'),
  external_data: z.array(z.string().regex(/^[\w.-]+$/, 'expected a file name in the bundle directory')),
  inputs: z.array(valueSpec).min(1),
  outputs: z.array(valueSpec).min(1),
});

const decoderEntry = graphEntry.extend({
  layers: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]),
});

/** How the model draws when a request leaves a setting out (pretrain bundles). */
const imageDefaults = z.object({
  guidance_scale: z.number().positive().finite(),
  in_context_guidance_scale: z.number().positive().finite(),
  num_inference_steps: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
});

const textDefaults = z.object({
  num_beams: z.number().int().positive(),
  length_penalty: z.number(),
  max_new_tokens: z.number().int().positive(),
  min_length: z.number().int().nonnegative(),
  repetition_penalty: z.number().positive(),
});

const tokenId = z.number().int().nonnegative();

export const manifestSchema = z.object({
  format: z.literal('emu-bot-bundle'),
  version: z.literal(1),
  variant: z.enum(['pretrain', 'instruct']),
  dtype: z.enum(['float32', 'float16']),
  model: z.object({
    hidden_size: z.number().int().positive(),
    num_layers: z.number().int().positive(),
    num_heads: z.number().int().positive(),
    head_dim: z.number().int().positive(),
    vocab_size: z.number().int().positive(),
    max_positions: z.number().int().positive(),
    image_tokens: z.number().int().positive(),
  }),
  tokenizer: z.string().min(1),
  tokens: z.object({
    bos: tokenId,
    eos: tokenId,
    pad: tokenId,
    img_start: tokenId,
    img_end: tokenId,
    image: tokenId,
    user: tokenId.nullable(),
    assistant: tokenId.nullable(),
  }),
  image_preprocessing: z.object({
    size: z.number().int().positive(),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  }),
  generation: z.object({
    text: textDefaults,
    video: textDefaults,
    caption: textDefaults,
    image: imageDefaults.optional(),
  }),
  image_generation: z.boolean(),
  graphs: z
    .object({
      vision: graphEntry,
      embed_tokens: graphEntry,
      decoder: z.array(decoderEntry).min(1),
    })
    .nullable(),
  selfcheck: z.string().nullable(),
  image_decoder: z
    .object({
      graphs: z.object({
        unet: graphEntry,
        vae_decoder: graphEntry,
        vae_encoder: graphEntry,
        safety_checker: graphEntry,
      }),
      latent_channels: z.number().int().positive(),
      vae_scale_factor: z.number().int().positive(),
      sample_size: z.number().int().positive(),
      cross_attention_dim: z.number().int().positive(),
      scheduler: z.string().regex(/^[\w.-]+\.json$/),
      default_scheduler: z.enum(['pndm', 'ddim']),
      safety_checker: z.object({ special_care_adjustment: z.number() }),
      selfcheck: z.string().nullable(),
    })
    .nullable()
    .default(null),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type GraphEntry = z.infer<typeof graphEntry>;
export type DecoderEntry = z.infer<typeof decoderEntry>;
export type ValueSpec = z.infer<typeof valueSpec>;
export type ImageDecoderEntry = NonNullable<Manifest['image_decoder']>;

export function parseManifest(json: unknown, file: string): Manifest {
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new EmuBotError('BUNDLE_INVALID', `${file}: ${problems.join('; ')}`);
  }
  const manifest = parsed.data;
  if (manifest.graphs !== null) {
    checkLayerRanges(manifest.graphs.decoder, manifest.model.num_layers, file);
    checkHeadCounts(manifest.graphs.decoder, file);
  }
  return manifest;
}

const headCounts = ['num_logits_to_keep', 'num_regressed_to_keep'];

/** The last decoder part takes one position count per head (see docs/bundle-format.md). */
function checkHeadCounts(parts: readonly DecoderEntry[], file: string): void {
  const last = parts[parts.length - 1] as DecoderEntry;
  for (const name of headCounts) {
    const input = last.inputs.find((spec) => spec.name === name);
    if (input === undefined || input.dtype !== 'int64' || input.shape.length !== 0) {
      throw new EmuBotError(
        'BUNDLE_INVALID',
        `${file}: graphs.decoder ${last.file} needs the int64 scalar input ${name}; bundles exported before the two heads took their own counts lack num_regressed_to_keep: export the bundle again with tools/export.py`,
      );
    }
  }
}

/** The decoder parts must cover layers 0..num_layers in order, without gaps or overlaps. */
function checkLayerRanges(parts: readonly DecoderEntry[], layers: number, file: string): void {
  let next = 0;
  for (const part of parts) {
    const [start, end] = part.layers;
    if (start !== next || end <= start) {
      throw new EmuBotError(
        'BUNDLE_INVALID',
        `${file}: graphs.decoder ${part.file} covers layers [${start}, ${end}) but the next range must start at ${next}`,
      );
    }
    next = end;
  }
  if (next !== layers) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${file}: graphs.decoder covers ${next} of model.num_layers ${layers} layers`,
    );
  }
}
