export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found, in one line. */
  readonly summary: string;
  /** What to do about it, when something is wrong. */
  readonly fix?: string;
}

export interface Check {
  readonly name: string;
  run(signal: AbortSignal): Promise<CheckResult[]>;
}
