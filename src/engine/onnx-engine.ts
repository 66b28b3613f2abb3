import { join } from 'node:path';
import { EmuBotError } from '../core/index.js';
import { type BundleSessionSettings, type LoadedBundle, loadBundle } from './bundle/index.js';
import { type GenerationResult, TextStreamer } from './generation/index.js';
import { ImageBatcher } from './image/image-batcher.js';
import { resolveImageSettings } from './image/settings.js';
import type {
  Engine,
  ImageRequest,
  ImageResult,
  ModelKind,
  RunOptions,
  TextRequest,
  TextResult,
} from './requests.js';
import { prepareText } from './text/prepare-text.js';
import { TextBatcher } from './text/text-batcher.js';
import { EmuTokenizer, pythonStrip } from './tokenizer/index.js';

export interface EngineOptions {
  /** The bundle directory for each model this engine serves. */
  readonly bundles: Readonly<Partial<Record<ModelKind, string>>>;
  readonly sessions: BundleSessionSettings;
  readonly maxBatchRows: number;
}

interface LoadedModel {
  readonly bundle: LoadedBundle;
  readonly tokenizer: EmuTokenizer;
  readonly text: TextBatcher;
  readonly images: ImageBatcher;
}

/**
 * The engine on onnxruntime-node, in the calling thread. `run` blocks the thread it is on, so
 * services use it through `startEngineThread`; tools and benchmarks may use it directly.
 */
export class OnnxEngine implements Engine {
  readonly models: readonly ModelKind[];
  readonly #loaded: ReadonlyMap<ModelKind, LoadedModel>;
  #closed = false;

  private constructor(loaded: ReadonlyMap<ModelKind, LoadedModel>) {
    this.#loaded = loaded;
    this.models = [...loaded.keys()];
  }

  static async load(options: EngineOptions): Promise<OnnxEngine> {
    const loaded = new Map<ModelKind, LoadedModel>();
    const bundles: LoadedBundle[] = [];
    try {
      for (const [kind, directory] of Object.entries(options.bundles) as [ModelKind, string | undefined][]) {
        if (directory === undefined) continue;
        const bundle = await loadBundle(directory, options.sessions);
        bundles.push(bundle);
        if (bundle.manifest.variant !== kind) {
          throw new EmuBotError(
            'BUNDLE_INVALID',
            `${directory} holds the ${bundle.manifest.variant} model, configured as ${kind}`,
          );
        }
        const tokenizer = await EmuTokenizer.fromFile(join(directory, bundle.manifest.tokenizer));
        loaded.set(kind, {
          bundle,
          tokenizer,
          text: new TextBatcher(bundle, options.maxBatchRows),
          images: new ImageBatcher(bundle, tokenizer),
        });
      }
    } catch (error) {
      await Promise.all(bundles.map((bundle) => bundle.release()));
      throw error;
    }
    if (loaded.size === 0) throw new EmuBotError('INTERNAL', 'an engine needs at least one bundle');
    return new OnnxEngine(loaded);
  }

  tokenizer(kind: ModelKind): EmuTokenizer {
    return this.#model(kind).tokenizer;
  }

  async generateText(request: TextRequest, options: RunOptions = {}): Promise<TextResult> {
    const model = this.#model(request.model);
    const streamer =
      options.onText === undefined
        ? undefined
        : new TextStreamer(model.tokenizer.streamingDecoder(), options.onText);
    const prepared = prepareText(request, model.bundle, model.tokenizer, streamer);
    const result = await new Promise<GenerationResult>((resolve, reject) => {
      model.text.submit({ prepared, signal: options.signal, resolve, reject });
    });
    const best = result.sequences[0];
    if (best === undefined) throw new EmuBotError('INTERNAL', 'the search returned no sequence');
    return {
      text: pythonStrip(model.tokenizer.decode(best.tokenIds, { skipSpecialTokens: true })),
      tokenIds: best.tokenIds,
      promptTokens: prepared.ids.length,
      finishReason: best.finishReason,
    };
  }

  generateImage(request: ImageRequest, options: RunOptions = {}): Promise<ImageResult> {
    const model = this.#model(request.model);
    const resolved = resolveImageSettings(request, model.bundle.manifest);
    return new Promise((resolve, reject) =>
      model.images.submit({ request: resolved, options, resolve, reject }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      [...this.#loaded.values()].flatMap((model) => [model.text.idle(), model.images.idle()]),
    );
    await Promise.all([...this.#loaded.values()].map((model) => model.bundle.release()));
  }

  #model(kind: ModelKind): LoadedModel {
    if (this.#closed) throw new EmuBotError('INTERNAL', 'the engine is closed');
    const model = this.#loaded.get(kind);
    if (model === undefined) {
      throw new EmuBotError('INTERNAL', `this engine holds ${this.models.join(' and ')}, not ${kind}`);
    }
    return model;
  }
}
