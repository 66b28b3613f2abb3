import type { Config } from '../config/index.js';
import { type BundleSessionSettings, startEngineThread } from '../engine/index.js';
import type { EngineFactory } from '../worker/index.js';

/** The engine's session settings from the configuration's `engine` section. */
export function engineSessionSettings(engine: Config['engine']): BundleSessionSettings {
  return {
    devices:
      engine.device === 'cpu'
        ? [{ kind: 'cpu' }]
        : engine.cudaDeviceIds.map((deviceId) => ({ kind: 'cuda' as const, deviceId })),
    intraOpThreads: engine.intraOpThreads,
    interOpThreads: engine.interOpThreads,
    graphOptimization: engine.graphOptimization,
  };
}

/** The worker's engine: the configured bundles of `models`, on their own inference thread. */
export const onnxEngineFactory: EngineFactory = (models, config) =>
  startEngineThread({
    bundles: Object.fromEntries(models.map((kind) => [kind, config.models[kind].bundle])),
    sessions: engineSessionSettings(config.engine),
    maxBatchRows: config.engine.maxBatchRows,
  });
