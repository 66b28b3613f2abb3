import type { ErrorCode } from '../../core/index.js';
import type {
  GenerationProgress,
  ImageRequest,
  ImageResult,
  ModelKind,
  TextRequest,
  TextResult,
} from '../requests.js';

/** Messages between the main thread's engine proxy and the inference thread. */

export type ToThread =
  | {
      readonly type: 'generate-text';
      readonly id: number;
      readonly request: TextRequest;
      readonly stream: boolean;
    }
  | { readonly type: 'generate-image'; readonly id: number; readonly request: ImageRequest }
  | { readonly type: 'abort'; readonly id: number }
  | { readonly type: 'close' };

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly userMessage: string;
}

export type FromThread =
  | { readonly type: 'ready'; readonly models: readonly ModelKind[] }
  | { readonly type: 'start-failed'; readonly error: SerializedError }
  | { readonly type: 'text-delta'; readonly id: number; readonly delta: string }
  | { readonly type: 'progress'; readonly id: number; readonly progress: GenerationProgress }
  | { readonly type: 'text-result'; readonly id: number; readonly result: TextResult }
  | { readonly type: 'image-result'; readonly id: number; readonly result: ImageResult }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedError }
  | { readonly type: 'closed' };
