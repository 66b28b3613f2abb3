import type { Config } from '../config/index.js';
import type { Engine, ModelKind } from '../engine/index.js';

/**
 * Loads the engine a worker runs, once per process: the model bundles of `models`, as the
 * configuration names them. The worker owns the engine it gets and closes it. The ONNX engine
 * plugs in here; tests and the benchmark pass small engines of their own.
 */
export type EngineFactory = (
  models: readonly ModelKind[],
  config: Config,
  signal: AbortSignal,
) => Promise<Engine>;

/** The models a worker is configured to hold (`worker.models`). */
export function configuredModels(config: Config): ModelKind[] {
  return config.worker.models === 'both' ? ['instruct', 'pretrain'] : [config.worker.models];
}
