import type { Config } from '../config/index.js';
import type { BundleSessionSettings } from '../engine/index.js';

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
