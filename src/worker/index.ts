export { Batcher, type BatchSettings, type EngineOutput, type EngineTask } from './batcher.js';
export { configuredModels, type EngineFactory } from './engine-factory.js';
export { GpuWorker, type GpuWorkerOptions } from './gpu-worker.js';
