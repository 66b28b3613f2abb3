import type { SchedulerConfig } from './scheduler-config.js';

const f32 = Math.fround;

/** torch.linspace in float32, as its CPU kernel computes it (from both ends towards the middle). */
function linspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const values = new Float32Array(steps);
  const step = f32(f32(f32(end) - f32(start)) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let index = 0; index < steps; index++) {
    values[index] =
      index < halfway ? f32(f32(start) + f32(step * index)) : f32(f32(end) - f32(step * (steps - index - 1)));
  }
  return values;
}

/**
 * prod(1 - beta) up to each training timestep, in float32 as diffusers computes it, so that the
 * denoising steps agree with the reference to the last bits that matter.
 */
export function alphasCumprod(config: SchedulerConfig): Float32Array {
  const steps = config.num_train_timesteps;
  const betas =
    config.beta_schedule === 'linear'
      ? linspaceFloat32(config.beta_start, config.beta_end, steps)
      : linspaceFloat32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), steps).map((root) =>
          f32(root * root),
        );
  const cumulative = new Float32Array(steps);
  let product = 1;
  for (let index = 0; index < steps; index++) {
    product = f32(product * f32(1 - (betas[index] as number)));
    cumulative[index] = product;
  }
  return cumulative;
}

/** The ascending timestep grid of `timestep_spacing` (diffusers' set_timesteps). */
export function baseTimesteps(config: SchedulerConfig, inferenceSteps: number): number[] {
  const train = config.num_train_timesteps;
  if (!Number.isInteger(inferenceSteps) || inferenceSteps < 1 || inferenceSteps > train) {
    throw new RangeError(`inference steps must be a whole number from 1 to ${train}, got ${inferenceSteps}`);
  }
  switch (config.timestep_spacing) {
    case 'leading': {
      const ratio = Math.floor(train / inferenceSteps);
      return Array.from({ length: inferenceSteps }, (_, index) => index * ratio + config.steps_offset);
    }
    case 'linspace':
      return Array.from({ length: inferenceSteps }, (_, index) =>
        roundHalfEven(inferenceSteps === 1 ? 0 : (index * (train - 1)) / (inferenceSteps - 1)),
      );
    case 'trailing': {
      const ratio = train / inferenceSteps;
      const descending = Array.from(
        { length: inferenceSteps },
        (_, index) => roundHalfEven(train - index * ratio) - 1,
      );
      return descending.reverse();
    }
  }
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The forward process at `timestep`: sqrt(a_t) x0 + sqrt(1 - a_t) noise. */
export function noised(
  alphas: Float32Array,
  original: Float32Array,
  noise: Float32Array,
  timestep: number,
): Float32Array {
  const alpha = alphas[timestep] as number;
  const signal = Math.sqrt(alpha);
  const spread = Math.sqrt(1 - alpha);
  return original.map((value, index) => signal * value + spread * (noise[index] as number));
}

/**
 * diffusers' img2img start: with `strength` s of `steps`, skip the first steps - int(steps * s)
 * timesteps (its schedulers' `order` is 1, so PNDM's repeated first timestep counts as a step).
 */
export function timestepsFromStrength(
  timesteps: readonly number[],
  steps: number,
  strength: number,
): number[] {
  const kept = Math.min(Math.floor(steps * strength), steps);
  return timesteps.slice(Math.max(steps - kept, 0));
}
