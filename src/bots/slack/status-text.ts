import type { JobUpdate } from '../../queue/index.js';
import { escapeMrkdwn, messageTextLimit } from './mrkdwn.js';

/** What the status message says while a job waits or runs; the streamed answer so far when there is one. */
export function statusText(update: JobUpdate, answerPrefix: string): string {
  switch (update.state) {
    case 'queued': {
      const wait = update.estimatedWaitMs === null ? '' : ` (about ${formatWait(update.estimatedWaitMs)})`;
      return `:hourglass_flowing_sand: Waiting in line: number ${update.position}${wait}.`;
    }
    case 'deferred':
      return `:hourglass_flowing_sand: Waiting: ${update.reason}.`;
    case 'running': {
      const { step, text, tokens } = update.progress;
      if (step !== undefined) return `:art: Drawing: step ${step.step} of ${step.totalSteps}.`;
      if (text.trim() !== '') {
        const answer = escapeMrkdwn(joinPrefix(answerPrefix, text));
        return `${answer.slice(0, messageTextLimit - 2)} …`;
      }
      return `:thought_balloon: Thinking${tokens > 0 ? ` (${tokens} tokens so far)` : ''}…`;
    }
  }
}

export const startingText = ':thought_balloon: Working on it…';

/** The caption prompt's opening words and the model's continuation, as the reference joins them. */
export function joinPrefix(prefix: string, text: string): string {
  return prefix === '' ? text.trim() : `${prefix} ${text.trim()}`;
}

/** A wait as people read it: seconds under a minute and a half, else minutes. */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
