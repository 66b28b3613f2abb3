import type { LoadedConfig } from '../config/index.js';
import type { Check, CheckResult, CheckStatus } from './check.js';
import { bundlesCheck } from './checks/bundles.js';
import { configurationCheck } from './checks/configuration.js';
import { credentialsCheck } from './checks/credentials.js';
import { ffmpegCheck } from './checks/ffmpeg.js';
import { redisCheck } from './checks/redis.js';

export function defaultChecks(loaded: LoadedConfig): Check[] {
  const { config } = loaded;
  return [
    configurationCheck(loaded),
    credentialsCheck(config),
    redisCheck(config),
    ffmpegCheck(config),
    bundlesCheck(config),
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
