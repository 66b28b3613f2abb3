import { DdimScheduler } from './ddim.js';
import { PndmScheduler } from './pndm.js';
import type { Scheduler, SchedulerName } from './scheduler.js';
import type { SchedulerConfig } from './scheduler-config.js';

export { alphasCumprod, baseTimesteps } from './noise-schedule.js';
export type { Scheduler, SchedulerName } from './scheduler.js';
export { parseSchedulerConfig, type SchedulerConfig } from './scheduler-config.js';

/**
 * `pndm` (Emu's) or `ddim`, with its timesteps fixed for `inferenceSteps`; with `strength` below 1
 * only the last part of them, for a variation of an image.
 */
export function createScheduler(
  name: SchedulerName,
  config: SchedulerConfig,
  inferenceSteps: number,
  strength = 1,
): Scheduler {
  return name === 'pndm'
    ? new PndmScheduler(config, inferenceSteps, strength)
    : new DdimScheduler(config, inferenceSteps, strength);
}
