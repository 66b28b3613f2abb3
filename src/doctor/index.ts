export type { Check, CheckResult, CheckStatus } from './check.js';
export { defaultChecks, formatReport, runChecks } from './doctor.js';
