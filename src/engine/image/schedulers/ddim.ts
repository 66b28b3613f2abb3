import { alphasCumprod, baseTimesteps, noised, timestepsFromStrength } from './noise-schedule.js';
import type { Scheduler } from './scheduler.js';
import type { SchedulerConfig } from './scheduler-config.js';

/**
 * Deterministic DDIM (Song et al. 2020, eta 0): predict x0 from the noise estimate, then step to
 * the previous timestep. Made from the same scheduler config as PNDM, as diffusers' from_config.
 */
export class DdimScheduler implements Scheduler {
  readonly timesteps: readonly number[];
  readonly #alphas: Float32Array;
  readonly #finalAlpha: number;
  readonly #stride: number;
  readonly #clip: boolean;

  /** `strength` below 1 starts part of the way down, for variations of an image. */
  constructor(config: SchedulerConfig, inferenceSteps: number, strength = 1) {
    this.#alphas = alphasCumprod(config);
    this.#finalAlpha = config.set_alpha_to_one ? 1 : (this.#alphas[0] as number);
    this.#stride = Math.floor(config.num_train_timesteps / inferenceSteps);
    this.#clip = config.clip_sample;
    this.timesteps = timestepsFromStrength(
      baseTimesteps(config, inferenceSteps).reverse(),
      inferenceSteps,
      strength,
    );
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return noised(this.#alphas, original, noise, timestep);
  }

  step(noise: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const to = timestep - this.#stride;
    const alpha = this.#alphas[timestep] as number;
    const alphaPrevious = to >= 0 ? (this.#alphas[to] as number) : this.#finalAlpha;
    const noiseScale = Math.sqrt(1 - alpha);
    const signalScale = Math.sqrt(alpha);
    const previous = new Float32Array(sample.length);
    for (let index = 0; index < sample.length; index++) {
      const predicted = ((sample[index] as number) - noiseScale * (noise[index] as number)) / signalScale;
      const original = this.#clip ? Math.min(1, Math.max(-1, predicted)) : predicted;
      previous[index] =
        Math.sqrt(alphaPrevious) * original + Math.sqrt(1 - alphaPrevious) * (noise[index] as number);
    }
    return previous;
  }
}
