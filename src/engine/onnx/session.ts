import * as ort from 'onnxruntime-node';
import { EmuBotError } from '../../core/index.js';

/**
 * The one module that touches onnxruntime-node. Everything else sees `GraphSession`: a loaded
 * graph whose inputs are checked against the model's own metadata before every run, because
 * onnxruntime-node silently ignores extra feeds and fails deep inside with unhelpful messages
 * on missing or mis-shaped ones.
 */

export type Device = { readonly kind: 'cpu' } | { readonly kind: 'cuda'; readonly deviceId: number };

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionSettings {
  readonly device: Device;
  /** 0 lets onnxruntime choose. */
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly graphOptimization: GraphOptimization;
}

export type Tensor = ort.Tensor;
export type TensorType = ort.Tensor.Type;
export type Feeds = Readonly<Record<string, ort.Tensor>>;
export type Outputs = Readonly<Record<string, ort.Tensor>>;

export interface TensorSpec {
  readonly name: string;
  readonly type: TensorType;
  /** Fixed sizes as numbers, symbolic ones (batch, sequence) as names. */
  readonly shape: readonly (number | string)[];
}

function executionProviders(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device.kind) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return [{ name: 'cuda', deviceId: device.deviceId }];
  }
}

function specsOf(metadata: readonly ort.InferenceSession.ValueMetadata[], file: string): TensorSpec[] {
  return metadata.map((value) => {
    if (!value.isTensor) {
      throw new EmuBotError('BUNDLE_INVALID', `${file}: graph value ${value.name} is not a tensor`);
    }
    return { name: value.name, type: value.type, shape: value.shape };
  });
}

export class GraphSession {
  readonly file: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #session: ort.InferenceSession;
  #released = false;

  private constructor(file: string, session: ort.InferenceSession) {
    this.file = file;
    this.#session = session;
    this.inputs = specsOf(session.inputMetadata, file);
    this.outputs = specsOf(session.outputMetadata, file);
  }

  static async load(file: string, settings: SessionSettings): Promise<GraphSession> {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: executionProviders(settings.device),
      graphOptimizationLevel: settings.graphOptimization,
      ...(settings.intraOpThreads > 0 ? { intraOpNumThreads: settings.intraOpThreads } : {}),
      ...(settings.interOpThreads > 0 ? { interOpNumThreads: settings.interOpThreads } : {}),
    };
    try {
      return new GraphSession(file, await ort.InferenceSession.create(file, options));
    } catch (error) {
      if (error instanceof EmuBotError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmuBotError('BUNDLE_INVALID', `${file}: onnxruntime cannot load it: ${reason}`, {
        cause: error,
      });
    }
  }

  /** Runs the graph after checking `feeds` against its inputs; returns only the named outputs. */
  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Outputs> {
    if (this.#released) throw new EmuBotError('INTERNAL', `${this.file}: run after release`);
    checkFeeds(this.file, this.inputs, feeds);
    try {
      return outputNames === undefined
        ? await this.#session.run(feeds)
        : await this.#session.run(feeds, outputNames);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmuBotError('INFERENCE_FAILED', `${this.file}: ${reason}`, { cause: error });
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#session.release();
  }
}

/**
 * Names, element types, ranks and fixed sizes must match; a symbolic size (say `batch`) must take
 * one value across all inputs that share it.
 */
export function checkFeeds(file: string, inputs: readonly TensorSpec[], feeds: Feeds): void {
  const expected = new Set(inputs.map((input) => input.name));
  const missing = inputs.filter((input) => !(input.name in feeds)).map((input) => input.name);
  const extra = Object.keys(feeds).filter((name) => !expected.has(name));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `unexpected ${extra.join(', ')}` : '',
    ].filter((part) => part !== '');
    throw new EmuBotError('INTERNAL', `${file}: feeds do not match the graph's inputs: ${parts.join('; ')}`);
  }
  const symbols = new Map<string, { size: number; input: string }>();
  for (const input of inputs) {
    const tensor = feeds[input.name] as ort.Tensor;
    if (tensor.type !== input.type) {
      throw new EmuBotError(
        'INTERNAL',
        `${file}: input ${input.name} must be ${input.type}, got ${tensor.type}`,
      );
    }
    if (tensor.dims.length !== input.shape.length) {
      throw new EmuBotError(
        'INTERNAL',
        `${file}: input ${input.name} must have rank ${input.shape.length} [${input.shape.join(', ')}], got [${tensor.dims.join(', ')}]`,
      );
    }
    input.shape.forEach((dimension, axis) => {
      const size = tensor.dims[axis] as number;
      if (typeof dimension === 'number') {
        if (dimension >= 0 && size !== dimension) {
          throw new EmuBotError(
            'INTERNAL',
            `${file}: input ${input.name} axis ${axis} must be ${dimension}, got ${size}`,
          );
        }
        return;
      }
      const seen = symbols.get(dimension);
      if (seen === undefined) symbols.set(dimension, { size, input: input.name });
      else if (seen.size !== size) {
        throw new EmuBotError(
          'INTERNAL',
          `${file}: ${dimension} is ${seen.size} in ${seen.input} but ${size} in ${input.name}`,
        );
      }
    });
  }
}

export function tensor(type: 'float32', data: Float32Array, dims: readonly number[]): ort.Tensor;
export function tensor(type: 'int64', data: BigInt64Array, dims: readonly number[]): ort.Tensor;
export function tensor(type: 'float16', data: Uint16Array, dims: readonly number[]): ort.Tensor;
export function tensor(
  type: TensorType,
  data: Float32Array | BigInt64Array | Uint16Array,
  dims: readonly number[],
): ort.Tensor {
  return new ort.Tensor(type, data, dims);
}
