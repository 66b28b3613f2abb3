import { EmuBotError } from '../core/index.js';
import type { JobOutcome } from './job-types.js';

/**
 * A results-stream entry: the outcome as JSON, and a generated image's PNG as raw bytes beside
 * it (never base64 inside the JSON).
 */
export function encodeOutcome(outcome: JobOutcome): Array<string | Buffer> {
  if (outcome.status === 'completed' && outcome.image !== undefined) {
    const { image, ...rest } = outcome;
    const json = JSON.stringify({ ...rest, image: { flagged: image.flagged } });
    return ['job', outcome.jobId, 'outcome', json, 'png', Buffer.from(image.png)];
  }
  return ['job', outcome.jobId, 'outcome', JSON.stringify(outcome)];
}

/** Reads an entry's field/value list back into an outcome. */
export function decodeOutcome(fields: readonly Buffer[]): JobOutcome {
  const values = new Map<string, Buffer>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    values.set(String(fields[index]), fields[index + 1] as Buffer);
  }
  const json = values.get('outcome');
  if (json === undefined) throw new EmuBotError('INTERNAL', 'results entry without an outcome');
  const outcome = JSON.parse(json.toString('utf8')) as JobOutcome;
  const png = values.get('png');
  if (outcome.status === 'completed' && outcome.image !== undefined && png !== undefined) {
    return { ...outcome, image: { flagged: outcome.image.flagged, png: new Uint8Array(png) } };
  }
  return outcome;
}
