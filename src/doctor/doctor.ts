import type { LoadedConfig } from '../config/index.js';
import type { BundleSessionSettings } from '../engine/index.js';
import type { Check, CheckResult, CheckStatus } from './check.js';
import { bundleSelfCheck } from './checks/bundle-selfcheck.js';
import { bundlesCheck } from './checks/bundles.js';
import { configurationCheck } from './checks/configuration.js';
import { credentialsCheck } from './checks/credentials.js';
import { ffmpegCheck } from './checks/ffmpeg.js';
import { redisCheck } from './checks/redis.js';

export interface DoctorOptions {
  /** Load this bundle and run its self-check instead of only looking at the configured ones. */
  readonly bundle?: { readonly directory: string; readonly settings: BundleSessionSettings };
}

export function defaultChecks(loaded: LoadedConfig, options: DoctorOptions = {}): Check[] {
  const { config } = loaded;
  const bundleChecks =
    options.bundle === undefined
      ? [bundlesCheck(config)]
      : [bundleSelfCheck(options.bundle.directory, options.bundle.settings)];
  return [
    configurationCheck(loaded),
    credentialsCheck(config),
    redisCheck(config),
    ffmpegCheck(config),
    ...bundleChecks,
  ];
}

/** Runs the checks side by side; a check that throws is reported as failed, not fatal. */
export async function runChecks(checks: readonly Check[], signal: AbortSignal): Promise<CheckResult[]> {
  const outcomes = await Promise.all(
    checks.map((check) =>
      check.run(signal).catch((error: unknown): CheckResult[] => [
        {
          name: check.name,
          status: 'fail',
          summary: error instanceof Error ? error.message : String(error),
        },
      ]),
    ),
  );
  return outcomes.flat();
}

const marks: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✘' };

export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  const lines = results.flatMap((result) => {
    const head = `${marks[result.status]} ${result.name.padEnd(width)}  ${result.summary}`;
    return result.fix === undefined ? [head] : [head, `  ${' '.repeat(width)}  -> ${result.fix}`];
  });
  const failed = results.filter((result) => result.status === 'fail').length;
  lines.push('', failed === 0 ? 'All checks passed.' : `${failed} check(s) failed.`);
  return `${lines.join('\n')}\n`;
}
