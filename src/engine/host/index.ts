export { startEngineThread } from './threaded-engine.js';
