import { parentPort, workerData } from 'node:worker_threads';
import { toEmuBotError } from '../../core/index.js';
import { type EngineOptions, OnnxEngine } from '../onnx-engine.js';
import type { FromThread, SerializedError, ToThread } from './messages.js';

/**
 * The inference thread: owns the OnnxEngine, so onnxruntime's blocking `run` never stalls the
 * main thread's event loop (platform acknowledgements, heartbeats, HTTP).
 */

if (parentPort === null) throw new Error('engine-thread.js runs only as a worker thread');
const port = parentPort;

const send = (message: FromThread): void => port.postMessage(message);
const serialize = (error: unknown): SerializedError => {
  const failure = toEmuBotError(error);
  return { code: failure.code, message: failure.message, userMessage: failure.userMessage };
};

const controllers = new Map<number, AbortController>();

async function serve(engine: OnnxEngine, message: ToThread): Promise<void> {
  switch (message.type) {
    case 'abort':
      controllers.get(message.id)?.abort();
      return;
    case 'close':
      for (const controller of controllers.values()) controller.abort();
      await engine.close();
      send({ type: 'closed' });
      port.close();
      return;
    case 'generate-text':
    case 'generate-image': {
      const { id } = message;
      const controller = new AbortController();
      controllers.set(id, controller);
      const options = {
        signal: controller.signal,
        onProgress: (progress: { step: number; totalSteps: number }) =>
          send({ type: 'progress', id, progress }),
      };
      try {
        if (message.type === 'generate-text') {
          const onText = message.stream
            ? { onText: (delta: string) => send({ type: 'text-delta', id, delta }) }
            : {};
          send({
            type: 'text-result',
            id,
            result: await engine.generateText(message.request, { ...options, ...onText }),
          });
        } else {
          send({ type: 'image-result', id, result: await engine.generateImage(message.request, options) });
        }
      } catch (error) {
        send({ type: 'failed', id, error: serialize(error) });
      } finally {
        controllers.delete(id);
      }
    }
  }
}

try {
  const engine = await OnnxEngine.load(workerData as EngineOptions);
  port.on('message', (message: ToThread) => void serve(engine, message));
  send({ type: 'ready', models: engine.models });
} catch (error) {
  send({ type: 'start-failed', error: serialize(error) });
  port.close();
}
