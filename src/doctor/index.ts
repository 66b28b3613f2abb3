export type { Check, CheckResult, CheckStatus } from './check.js';
export { type DoctorOptions, defaultChecks, formatReport, runChecks } from './doctor.js';
