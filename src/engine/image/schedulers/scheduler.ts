/**
 * The contract every diffusion scheduler keeps (diffusers' shape): the timesteps are fixed when
 * it is made, and `step` is called once per timestep, in order, with the UNet's noise
 * prediction for the current sample.
 */
export interface Scheduler {
  /** The timesteps to run the UNet at, in order (PNDM repeats its first one). */
  readonly timesteps: readonly number[];
  /** The previous sample, x_{t-1}, as a new array; `sample` and `noise` are not changed. */
  step(noise: Float32Array, timestep: number, sample: Float32Array): Float32Array;
  /** `original` noised to `timestep` (the forward process): sqrt(a) x + sqrt(1 - a) noise. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array;
}

export type SchedulerName = 'pndm' | 'ddim';
