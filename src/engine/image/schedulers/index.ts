import { DdimScheduler } from './ddim.js';
import { PndmScheduler } from './pndm.js';
import type { Scheduler, SchedulerName } from './scheduler.js';
import type { SchedulerConfig } from './scheduler-config.js';

export { alphasCumprod, baseTimesteps } from './noise-schedule.js';
export type { Scheduler, SchedulerName } from './scheduler.js';
export { parseSchedulerConfig, type SchedulerConfig } from './scheduler-config.js';

/** `pndm` (Emu's) or `ddim`, with its timesteps fixed for `inferenceSteps`. */
export function createScheduler(
  name: SchedulerName,
  config: SchedulerConfig,
  inferenceSteps: number,
): Scheduler {
  return name === 'pndm'
    ? new PndmScheduler(config, inferenceSteps)
    : new DdimScheduler(config, inferenceSteps);
}
