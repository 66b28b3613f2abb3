import type { Engine, ModelKind } from '../../src/engine/index.js';

export interface TestEngineStats {
  calls: number;
  active: number;
  maxActive: number;
  prompts: string[];
  closed: boolean;
}

export interface TestEngineOptions {
  readonly models?: readonly ModelKind[];
  readonly delayMs?: number;
  readonly steps?: number;
}

export function createTestEngine(options?: TestEngineOptions): Engine & { readonly stats: TestEngineStats };
