import { alphasCumprod, baseTimesteps, noised, timestepsFromStrength } from './noise-schedule.js';
import type { Scheduler } from './scheduler.js';
import type { SchedulerConfig } from './scheduler-config.js';

/**
 * PNDM (Liu et al. 2022) as diffusers runs it for Stable Diffusion: with `skip_prk_steps` the
 * Runge-Kutta warm-up is replaced by repeating the first timestep (50 steps call the UNet 51
 * times; the second call averages the two predictions and restarts from the first sample), then
 * a fourth-order linear multistep over the stored noise predictions.
 */
export class PndmScheduler implements Scheduler {
  readonly timesteps: readonly number[];
  readonly #alphas: Float32Array;
  readonly #finalAlpha: number;
  readonly #stride: number;
  #counter = 0;
  #history: Float32Array[] = [];
  #firstSample: Float32Array | undefined;

  /** `strength` below 1 starts part of the way down, for variations of an image. */
  constructor(config: SchedulerConfig, inferenceSteps: number, strength = 1) {
    if (!config.skip_prk_steps) {
      throw new RangeError('PNDM with Runge-Kutta warm-up steps (skip_prk_steps false) is not supported');
    }
    this.#alphas = alphasCumprod(config);
    this.#finalAlpha = config.set_alpha_to_one ? 1 : (this.#alphas[0] as number);
    this.#stride = Math.floor(config.num_train_timesteps / inferenceSteps);
    const grid = baseTimesteps(config, inferenceSteps);
    const all = [...grid.slice(0, -1), ...grid.slice(-2, -1), ...grid.slice(-1)].reverse();
    this.timesteps = timestepsFromStrength(all, inferenceSteps, strength);
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return noised(this.#alphas, original, noise, timestep);
  }

  step(noise: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    let from = timestep;
    let to = timestep - this.#stride;
    let current = sample;
    let combined: Float32Array;
    if (this.#counter === 1) {
      // The repeated first timestep: average with the first prediction, restart from its sample.
      from = timestep + this.#stride;
      to = timestep;
      combined = mix([
        [0.5, noise],
        [0.5, this.#history.at(-1) as Float32Array],
      ]);
      current = this.#firstSample as Float32Array;
      this.#firstSample = undefined;
    } else {
      this.#history = [...this.#history.slice(-3), noise];
      const [a, b, c, d] = [...this.#history].reverse() as Float32Array[];
      if (this.#history.length === 1) {
        this.#firstSample = sample;
        combined = noise;
      } else if (this.#history.length === 2) {
        combined = mix([
          [3 / 2, a as Float32Array],
          [-1 / 2, b as Float32Array],
        ]);
      } else if (this.#history.length === 3) {
        combined = mix([
          [23 / 12, a as Float32Array],
          [-16 / 12, b as Float32Array],
          [5 / 12, c as Float32Array],
        ]);
      } else {
        combined = mix([
          [55 / 24, a as Float32Array],
          [-59 / 24, b as Float32Array],
          [37 / 24, c as Float32Array],
          [-9 / 24, d as Float32Array],
        ]);
      }
    }
    this.#counter++;
    return this.#previous(current, from, to, combined);
  }

  /** PNDM eq. 9: x_{to} from x_{from} and the combined noise estimate. */
  #previous(sample: Float32Array, from: number, to: number, noise: Float32Array): Float32Array {
    const alpha = this.#alphas[from] as number;
    const alphaPrevious = to >= 0 ? (this.#alphas[to] as number) : this.#finalAlpha;
    const sampleCoefficient = Math.sqrt(alphaPrevious / alpha);
    const denominator = alpha * Math.sqrt(1 - alphaPrevious) + Math.sqrt(alpha * (1 - alpha) * alphaPrevious);
    const noiseCoefficient = (alphaPrevious - alpha) / denominator;
    const previous = new Float32Array(sample.length);
    for (let index = 0; index < sample.length; index++) {
      previous[index] =
        sampleCoefficient * (sample[index] as number) - noiseCoefficient * (noise[index] as number);
    }
    return previous;
  }
}

function mix(terms: readonly (readonly [number, Float32Array])[]): Float32Array {
  const length = (terms[0] as readonly [number, Float32Array])[1].length;
  const mixed = new Float32Array(length);
  for (const [weight, values] of terms) {
    for (let index = 0; index < length; index++)
      mixed[index] = (mixed[index] as number) + weight * (values[index] as number);
  }
  return mixed;
}
