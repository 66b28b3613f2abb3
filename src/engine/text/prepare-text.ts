import { EmuBotError } from '../../core/index.js';
import type { LoadedBundle } from '../bundle/index.js';
import type { GenerationOptions, TokenStreamer } from '../generation/index.js';
import { toPixelValues } from '../pixels/index.js';
import type { TextGenerationSettings, TextRequest } from '../requests.js';
import type { EmuTokenizer } from '../tokenizer/index.js';

/** A text request made ready for the model: ids with BOS, pixel values per image, search options. */
export interface PreparedText {
  readonly ids: readonly number[];
  /** Normalised [3, size, size] per image, in placeholder order. */
  readonly pixelValues: readonly Float32Array[];
  readonly search: GenerationOptions;
  /** How many cache rows the request occupies while it runs (one per beam). */
  readonly rows: number;
}

export function prepareText(
  request: TextRequest,
  bundle: LoadedBundle,
  tokenizer: EmuTokenizer,
  streamer: TokenStreamer | undefined,
): PreparedText {
  const { manifest } = bundle;
  const ids = tokenizer.encode(request.prompt, { addBos: true });
  const imagePositions = ids.filter((id) => id === manifest.tokens.image).length;
  if (imagePositions !== request.images.length * manifest.model.image_tokens) {
    throw new EmuBotError(
      'INTERNAL',
      `the prompt holds ${imagePositions} <image> tokens for ${request.images.length} image(s) of ${manifest.model.image_tokens}`,
    );
  }
  const needed = ids.length + request.settings.maxNewTokens;
  if (needed > manifest.model.max_positions) {
    throw new EmuBotError(
      'PROMPT_TOO_LONG',
      `the prompt takes ${ids.length} positions and the answer up to ${request.settings.maxNewTokens}; the model has ${manifest.model.max_positions}`,
    );
  }
  const spec = {
    size: manifest.image_preprocessing.size,
    mean: manifest.image_preprocessing.mean,
    std: manifest.image_preprocessing.std,
  };
  return {
    ids,
    pixelValues: request.images.map((image) => toPixelValues(image, spec)),
    search: searchOptions(request.settings, tokenizer, streamer),
    rows: request.settings.sampling === undefined ? request.settings.numBeams : 1,
  };
}

/** The search a request's settings ask for, with the bundle's BOS and EOS. */
export function searchOptions(
  settings: TextGenerationSettings,
  tokenizer: Pick<EmuTokenizer, 'bosTokenId' | 'eosTokenId'>,
  streamer: TokenStreamer | undefined,
): GenerationOptions {
  const common = {
    maxNewTokens: settings.maxNewTokens,
    minLength: settings.minLength,
    repetitionPenalty: settings.repetitionPenalty,
    bosTokenId: tokenizer.bosTokenId,
    eosTokenId: tokenizer.eosTokenId,
  };
  if (settings.sampling !== undefined) {
    const { seed, temperature, topK, topP } = settings.sampling;
    return {
      ...common,
      strategy: 'sample',
      seed,
      temperature,
      topK,
      topP,
      ...(streamer ? { streamer } : {}),
    };
  }
  if (settings.numBeams > 1) {
    return {
      ...common,
      strategy: 'beam',
      numBeams: settings.numBeams,
      lengthPenalty: settings.lengthPenalty,
      earlyStopping: settings.earlyStopping ?? false,
    };
  }
  return { ...common, strategy: 'greedy', ...(streamer ? { streamer } : {}) };
}
