import { z } from 'zod';
import { EmuBotError } from '../../../core/index.js';

/**
 * The diffusers scheduler_config.json a bundle carries. Only the fields the schedulers here use
 * are read; a setting they cannot honour (another beta schedule, trained betas) is refused at
 * load instead of being ignored.
 */
const schema = z.object({
  num_train_timesteps: z.number().int().positive(),
  beta_start: z.number().positive(),
  beta_end: z.number().positive(),
  beta_schedule: z.enum(['linear', 'scaled_linear']),
  set_alpha_to_one: z.boolean(),
  skip_prk_steps: z.boolean().default(true),
  steps_offset: z.number().int().nonnegative().default(0),
  clip_sample: z.boolean().default(false),
  timestep_spacing: z.enum(['leading', 'linspace', 'trailing']).default('leading'),
  trained_betas: z.null().optional(),
  prediction_type: z.literal('epsilon').default('epsilon'),
});

export type SchedulerConfig = z.infer<typeof schema>;

export function parseSchedulerConfig(json: unknown, file: string): SchedulerConfig {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new EmuBotError('BUNDLE_INVALID', `${file}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
