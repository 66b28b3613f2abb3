/**
 * What the engine is asked to do and what it answers: the contract between the prompt builder
 * (src/chat), the queue (src/queue, src/worker) and the engine. Plain data only, so requests
 * travel through Redis unchanged.
 */

import type { SchedulerName } from './image/schedulers/scheduler.js';
import type { RgbImage } from './pixels/rgb-image.js';

export type { RgbImage };

/** The instruction-tuned model answers; the pretrained model draws and continues sequences. */
export type ModelKind = 'instruct' | 'pretrain';

export interface SamplingSettings {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  /** Sampling is reproducible: the same seed, prompt and settings give the same answer. */
  readonly seed: number;
}

export interface TextGenerationSettings {
  readonly maxNewTokens: number;
  /** 1 with no `sampling` is greedy search. */
  readonly numBeams: number;
  readonly lengthPenalty: number;
  /**
   * Beam search only: stop as soon as numBeams hypotheses have finished (Hugging Face's
   * `early_stopping=True`) instead of when no open beam can beat them. Default false, as the
   * reference runs.
   */
  readonly earlyStopping?: boolean;
  readonly minLength: number;
  readonly repetitionPenalty: number;
  readonly sampling?: SamplingSettings;
}

/**
 * A prompt in the reference's own form: one string holding Emu's literal special tokens
 * (`[USER]`, `[ASSISTANT]`, and per image `[IMG]` + 32 x `<image>` + `[/IMG]`), and the images in
 * the order their placeholders appear. Text written by people must have been escaped by the
 * prompt builder so that it cannot contain special tokens.
 */
export interface TextRequest {
  readonly model: ModelKind;
  readonly prompt: string;
  readonly images: readonly RgbImage[];
  readonly settings: TextGenerationSettings;
}

export interface ImageGenerationSettings {
  readonly seed: number;
  readonly steps: number;
  /**
   * Classifier-free guidance; 1 or less turns it off. Default the bundle's `generation.image`
   * (`in_context_guidance_scale` for a prompt with images and text, else `guidance_scale`).
   */
  readonly guidanceScale?: number;
  /** Default the bundle's `generation.image` size (the image decoder's own). */
  readonly width?: number;
  readonly height?: number;
  /**
   * The diffusion scheduler: `pndm` (the reference's) or `ddim` (as good in fewer steps). Default
   * the bundle's `default_scheduler`.
   */
  readonly scheduler?: SchedulerName;
}

/**
 * A variation: start from this image's latents (VAE-encoded) noised to `strength` of the way
 * (0 keeps the image, 1 ignores it), instead of from pure noise, as diffusers' img2img does.
 */
export interface VariationSource {
  readonly image: RgbImage;
  readonly strength: number;
}

/** Image generation runs on the pretrained model; the prompt ends where `[IMG]` will follow. */
export interface ImageRequest {
  readonly model: 'pretrain';
  readonly prompt: string;
  readonly images: readonly RgbImage[];
  readonly settings: ImageGenerationSettings;
  readonly variationOf?: VariationSource;
}

export type FinishReason = 'eos' | 'length';

export interface TextResult {
  readonly text: string;
  readonly tokenIds: readonly number[];
  readonly promptTokens: number;
  readonly finishReason: FinishReason;
}

export interface ImageResult {
  readonly png: Uint8Array;
  /** True when the bundle's safety checker flagged the image. */
  readonly flagged: boolean;
}

export interface GenerationProgress {
  readonly step: number;
  readonly totalSteps: number;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Text as it is decided (greedy and sampling; beam search answers at the end). */
  readonly onText?: (delta: string) => void;
  readonly onProgress?: (progress: GenerationProgress) => void;
}

/** The engine as the rest of emu-bot sees it; the worker owns one and closes it. */
export interface Engine {
  readonly models: readonly ModelKind[];
  generateText(request: TextRequest, options?: RunOptions): Promise<TextResult>;
  generateImage(request: ImageRequest, options?: RunOptions): Promise<ImageResult>;
  close(): Promise<void>;
}
