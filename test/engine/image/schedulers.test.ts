import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmuBotError, packageRoot } from '../../../src/core/index.js';
import {
  alphasCumprod,
  createScheduler,
  parseSchedulerConfig,
} from '../../../src/engine/image/schedulers/index.js';

// Stable Diffusion v1.5's scheduler configuration, the one Emu's pretrain/scheduler ships.
const configFile = join(packageRoot, 'tools', 'data', 'image_decoder', 'scheduler', 'scheduler_config.json');
const config = parseSchedulerConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);

describe('scheduler timesteps (diffusers values for Stable Diffusion v1.5)', () => {
  it('PNDM repeats its first timestep: 51 UNet calls for 50 steps', () => {
    const { timesteps } = createScheduler('pndm', config, 50);
    expect(timesteps).toHaveLength(51);
    expect(timesteps.slice(0, 5)).toEqual([981, 961, 961, 941, 921]);
    expect(timesteps.at(-1)).toBe(1);
  });

  it('PNDM at 25 steps and DDIM at 50 and 25', () => {
    expect(createScheduler('pndm', config, 25).timesteps.slice(0, 4)).toEqual([961, 921, 921, 881]);
    const ddim50 = createScheduler('ddim', config, 50).timesteps;
    expect(ddim50).toEqual(Array.from({ length: 50 }, (_, index) => 981 - 20 * index));
    expect(createScheduler('ddim', config, 25).timesteps.slice(0, 3)).toEqual([961, 921, 881]);
  });

  it('computes the scaled-linear noise schedule', () => {
    const alphas = alphasCumprod(config);
    expect(alphas[0]).toBeCloseTo(1 - 0.00085, 7);
    expect(alphas[999]).toBeCloseTo(0.0047, 4);
  });
});

describe('variations (a strength below 1)', () => {
  it('keep the last int(steps x strength) timesteps, as diffusers img2img', () => {
    expect(createScheduler('ddim', config, 50, 0.5).timesteps).toEqual(
      Array.from({ length: 25 }, (_, index) => 481 - 20 * index),
    );
    // PNDM's repeated first timestep counts as one of the 51, as diffusers slices it.
    expect(createScheduler('pndm', config, 50, 0.5).timesteps).toEqual(
      createScheduler('pndm', config, 50).timesteps.slice(25),
    );
    expect(createScheduler('ddim', config, 10, 1).timesteps).toHaveLength(10);
  });

  it('noise a sample to a timestep by the forward process', () => {
    const scheduler = createScheduler('ddim', config, 10);
    const alpha = alphasCumprod(config)[501] as number;
    const noised = scheduler.addNoise(Float32Array.of(1, -2), Float32Array.of(0.5, 0.25), 501);
    expect(noised[0]).toBeCloseTo(Math.sqrt(alpha) + Math.sqrt(1 - alpha) * 0.5, 6);
    expect(noised[1]).toBeCloseTo(-2 * Math.sqrt(alpha) + Math.sqrt(1 - alpha) * 0.25, 6);
  });
});

describe('DdimScheduler', () => {
  it('recovers the clean sample when the noise prediction is exact', () => {
    const scheduler = createScheduler('ddim', config, 10);
    const alphas = alphasCumprod(config);
    const clean = Float32Array.from({ length: 16 }, (_, index) => Math.sin(index));
    const noise = Float32Array.from({ length: 16 }, (_, index) => Math.cos(3 * index));
    const first = scheduler.timesteps[0] as number;
    const at = (alpha: number) =>
      clean.map((value, index) => Math.sqrt(alpha) * value + Math.sqrt(1 - alpha) * (noise[index] as number));
    let sample: Float32Array = at(alphas[first] as number);
    for (const timestep of scheduler.timesteps) sample = scheduler.step(noise, timestep, sample);
    const expected = at(alphas[0] as number);
    for (const [index, value] of sample.entries()) expect(value).toBeCloseTo(expected[index] as number, 4);
  });
});

describe('parseSchedulerConfig', () => {
  it('refuses a schedule it cannot honour, naming the field', () => {
    expect(() =>
      parseSchedulerConfig({ ...config, beta_schedule: 'squaredcos_cap_v2' }, 'scheduler_config.json'),
    ).toThrow(EmuBotError);
    expect(() =>
      parseSchedulerConfig({ ...config, prediction_type: 'v_prediction' }, 'scheduler_config.json'),
    ).toThrow(/prediction_type/);
  });
});
