import { Worker } from 'node:worker_threads';
import { EmuBotError } from '../../core/index.js';
import type { EngineOptions } from '../onnx-engine.js';
import type {
  Engine,
  ImageRequest,
  ImageResult,
  ModelKind,
  RunOptions,
  TextRequest,
  TextResult,
} from '../requests.js';
import type { FromThread, SerializedError, ToThread } from './messages.js';

interface Pending {
  readonly options: RunOptions;
  resolve(result: TextResult | ImageResult): void;
  reject(error: EmuBotError): void;
}

function revive(error: SerializedError): EmuBotError {
  return new EmuBotError(error.code, error.message, { userMessage: error.userMessage });
}

/**
 * The engine as the main thread sees it: requests go to an inference thread and answers,
 * streamed text and progress come back as messages. Its owner calls `close()`, which lets
 * running work be cancelled, releases the sessions and ends the thread.
 */
export async function startEngineThread(options: EngineOptions): Promise<Engine> {
  const worker = new Worker(new URL('./engine-thread.js', import.meta.url), { workerData: options });
  const models = await new Promise<readonly ModelKind[]>((resolve, reject) => {
    const onMessage = (message: FromThread) => {
      if (message.type === 'ready') resolve(message.models);
      if (message.type === 'start-failed') reject(revive(message.error));
    };
    worker.once('message', onMessage);
    worker.once('error', (error) =>
      reject(
        new EmuBotError('INTERNAL', `the engine thread failed to start: ${error.message}`, { cause: error }),
      ),
    );
  });
  return new ThreadedEngine(worker, models);
}

class ThreadedEngine implements Engine {
  readonly models: readonly ModelKind[];
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closing: Promise<void> | undefined;

  constructor(worker: Worker, models: readonly ModelKind[]) {
    this.#worker = worker;
    this.models = models;
    worker.on('message', (message: FromThread) => this.#receive(message));
    worker.on('error', (error) =>
      this.#failAll(
        new EmuBotError('INTERNAL', `the engine thread failed: ${error.message}`, { cause: error }),
      ),
    );
    worker.on('exit', (code) =>
      this.#failAll(new EmuBotError('INTERNAL', `the engine thread exited with code ${code}`)),
    );
  }

  generateText(request: TextRequest, options: RunOptions = {}): Promise<TextResult> {
    return this.#call(
      (id) => ({ type: 'generate-text', id, request, stream: options.onText !== undefined }),
      options,
    ) as Promise<TextResult>;
  }

  generateImage(request: ImageRequest, options: RunOptions = {}): Promise<ImageResult> {
    return this.#call((id) => ({ type: 'generate-image', id, request }), options) as Promise<ImageResult>;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage({ type: 'close' } satisfies ToThread);
    });
    return this.#closing;
  }

  #call(message: (id: number) => ToThread, options: RunOptions): Promise<TextResult | ImageResult> {
    if (this.#closing !== undefined)
      return Promise.reject(new EmuBotError('INTERNAL', 'the engine is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted === true) {
        reject(new EmuBotError('ABORTED', 'generation was cancelled before it started'));
        return;
      }
      const onAbort = () => this.#worker.postMessage({ type: 'abort', id } satisfies ToThread);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        options,
        resolve: (result) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(result);
        },
        reject: (error) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      this.#worker.postMessage(message(id));
    });
  }

  #receive(message: FromThread): void {
    if (!('id' in message)) return;
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    switch (message.type) {
      case 'text-delta':
        pending.options.onText?.(message.delta);
        return;
      case 'progress':
        pending.options.onProgress?.(message.progress);
        return;
      case 'text-result':
      case 'image-result':
        this.#pending.delete(message.id);
        pending.resolve(message.result);
        return;
      case 'failed':
        this.#pending.delete(message.id);
        pending.reject(revive(message.error));
    }
  }

  #failAll(error: EmuBotError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
