import { EmuBotError } from '../../core/index.js';
import type { DecoderPart, LoadedBundle } from '../bundle/load-bundle.js';
import { halvesToFloats } from '../onnx/float16.js';
import { type Tensor, tensor } from '../onnx/session.js';
import { type CacheArray, KvCache } from './kv-cache.js';

/**
 * A layer range with the names of the tensor it takes from the previous range and passes to
 * the next: ONNX forbids an input and an output of the same name, so exporters name the carried
 * hidden state differently on each side (`hidden_states` out, `hidden_states.1` in).
 */
interface PipelinePart extends DecoderPart {
  readonly input: string;
  readonly output: string;
}

function pipelinePart(part: DecoderPart): PipelinePart {
  const input = part.entry.inputs[0]?.name;
  const output = part.entry.outputs.find((spec) => !spec.name.startsWith('present.'))?.name;
  if (input === undefined || output === undefined) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${part.session.file}: the manifest lists no carried input or output`,
    );
  }
  return { ...part, input, output };
}

/** Embeddings in the bundle's I/O type: fp32 values, or fp16 bits for a float16 bundle. */
export type EmbeddingArray = Float32Array | Uint16Array;

export interface DecoderStepInput {
  /** [rows, incoming, hidden] */
  readonly inputsEmbeds: EmbeddingArray;
  /** [rows, incoming]: each row's positions, counted over its real tokens only. */
  readonly positionIds: BigInt64Array;
  /** [rows, incoming]: 1 for a real token, 0 for left padding. */
  readonly incomingValid: Uint8Array;
  readonly incoming: number;
  /** Logits are computed for the last `keepLogits` positions only (0: none). */
  readonly keepLogits: number;
  /** Regressed embeddings are computed for the last `keepRegressed` positions only (0: none). */
  readonly keepRegressed: number;
}

export interface DecoderStepOutput {
  /** [rows, keepLogits, vocab] */
  readonly logits: Float32Array;
  /** [rows, keepRegressed, hidden] */
  readonly regressed: Float32Array;
}

/**
 * Runs the decoder, as one graph or as a pipeline of layer ranges (each on its own device), over
 * a KV cache: each range reads its layers' past in place and returns only the new keys and
 * values, which are written into the cache before the next step.
 */
export class DecoderPipeline {
  readonly #parts: readonly PipelinePart[];
  readonly #bundle: LoadedBundle;

  constructor(bundle: LoadedBundle) {
    this.#bundle = bundle;
    this.#parts = bundle.decoder.map(pipelinePart);
  }

  createCache(): KvCache {
    const { model, dtype } = this.#bundle.manifest;
    return new KvCache({
      layers: model.num_layers,
      heads: model.num_heads,
      headDim: model.head_dim,
      type: dtype,
      maxPositions: model.max_positions,
    });
  }

  get ioType(): 'float32' | 'float16' {
    return this.#bundle.manifest.dtype;
  }

  async step(cache: KvCache, input: DecoderStepInput): Promise<DecoderStepOutput> {
    const rows = cache.rows;
    const { hidden_size: hidden } = this.#bundle.manifest.model;
    if (input.inputsEmbeds.length !== rows * input.incoming * hidden) {
      throw new EmuBotError(
        'INTERNAL',
        `decoder step: ${input.inputsEmbeds.length} embedding values for ${rows}x${input.incoming}x${hidden}`,
      );
    }
    cache.reserve(input.incoming);
    const mask = tensor('int64', cache.attentionMask(input.incoming, input.incomingValid), [
      rows,
      cache.slotsRead + input.incoming,
    ]);
    const positions = tensor('int64', input.positionIds, [rows, input.incoming]);
    let carried: Tensor = this.#embeddingTensor(input.inputsEmbeds, [rows, input.incoming, hidden]);
    let result: DecoderStepOutput | undefined;
    for (const part of this.#parts) {
      const [start, end] = part.entry.layers;
      const feeds: Record<string, Tensor> = {
        [part.input]: carried,
        attention_mask: mask,
        position_ids: positions,
      };
      for (let layer = start; layer < end; layer++) {
        const past = cache.past(layer);
        feeds[`past_key_values.${layer}.key`] = this.#cacheTensor(past.keys, past.dims);
        feeds[`past_key_values.${layer}.value`] = this.#cacheTensor(past.values, past.dims);
      }
      const isLast = end === this.#bundle.manifest.model.num_layers;
      if (isLast) {
        feeds['num_logits_to_keep'] = count(input.keepLogits);
        feeds['num_regressed_to_keep'] = count(input.keepRegressed);
      }
      const outputs = await part.session.run(feeds);
      for (let layer = start; layer < end; layer++) {
        const keys = outputs[`present.${layer}.key`];
        const values = outputs[`present.${layer}.value`];
        if (keys === undefined || values === undefined) {
          throw new EmuBotError(
            'INTERNAL',
            `${part.session.file}: no present keys/values for layer ${layer}`,
          );
        }
        cache.write(layer, keys.data as CacheArray, values.data as CacheArray, input.incoming);
      }
      if (isLast) {
        result = { logits: floats(outputs['logits']), regressed: floats(outputs['regressed_embeds']) };
      } else {
        const next = outputs[part.output];
        if (next === undefined)
          throw new EmuBotError('INTERNAL', `${part.session.file}: no ${part.output} output`);
        carried = next;
      }
    }
    cache.commit(input.incoming, input.incomingValid);
    if (result === undefined) throw new EmuBotError('INTERNAL', 'the decoder has no final layer range');
    return result;
  }

  #embeddingTensor(data: EmbeddingArray, dims: number[]): Tensor {
    return data instanceof Float32Array ? tensor('float32', data, dims) : tensor('float16', data, dims);
  }

  #cacheTensor(data: CacheArray, dims: readonly number[]): Tensor {
    return data instanceof Float32Array ? tensor('float32', data, dims) : tensor('float16', data, dims);
  }
}

function floats(value: Tensor | undefined): Float32Array {
  if (value === undefined) throw new EmuBotError('INTERNAL', 'the decoder returned no logits');
  return value.type === 'float16' ? halvesToFloats(value.data as Uint16Array) : (value.data as Float32Array);
}

function count(value: number): Tensor {
  return tensor('int64', BigInt64Array.of(BigInt(value)), []);
}
