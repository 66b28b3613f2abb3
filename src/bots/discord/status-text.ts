import type { JobUpdate } from '../../queue/index.js';

/** Discord's limit on a message's content. */
export const messageLimit = 2000;

/** "about 40 s" / "about 3 min"; nothing before any job has run. */
function estimate(ms: number | null): string {
  if (ms === null) return '';
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? ` (about ${seconds} s)` : ` (about ${Math.round(seconds / 60)} min)`;
}

/** What the waiting message says while a job is in line. */
export function queuedText(position: number, estimatedWaitMs: number | null): string {
  return position <= 1
    ? `⏳ Next in line${estimate(estimatedWaitMs)}…`
    : `⏳ In line: position ${position}${estimate(estimatedWaitMs)}…`;
}

/** A drawing's requested denoising steps, and the regression steps the engine reports before them. */
export interface DrawingSteps {
  readonly steps: number;
  readonly regressionSteps: number;
}

/**
 * The engine counts a drawing's progress over its regression steps and then its scheduler's UNet
 * calls (PNDM makes one more than the steps asked; a variation fewer): shown as denoising steps
 * out of the steps asked, "step 23/50".
 */
function drawingText(progress: { step: number; totalSteps: number }, drawing?: DrawingSteps): string {
  if (drawing === undefined || progress.totalSteps <= drawing.regressionSteps)
    return `🎨 Drawing: step ${progress.step}/${progress.totalSteps}`;
  if (progress.step <= drawing.regressionSteps) return '🎨 Drawing: reading the prompt…';
  const done = (progress.step - drawing.regressionSteps) / (progress.totalSteps - drawing.regressionSteps);
  const step = Math.min(drawing.steps, Math.max(1, Math.round(done * drawing.steps)));
  return `🎨 Drawing: step ${step}/${drawing.steps}`;
}

/**
 * What the waiting message shows for an update: the place in line, the drawing's steps, or the
 * answer so far (cut to fit one message; the whole answer is split across messages at the end).
 */
export function updateText(update: JobUpdate, answerPrefix = '', drawing?: DrawingSteps): string {
  switch (update.state) {
    case 'queued':
      return queuedText(update.position, update.estimatedWaitMs);
    case 'deferred':
      return `⏳ Waiting: ${update.reason}…`;
    case 'running': {
      const { progress } = update;
      if (progress.step !== undefined) return drawingText(progress.step, drawing);
      if (progress.text === '') return '✍️ Thinking…';
      const text = `${answerPrefix === '' ? '' : `${answerPrefix} `}${progress.text}`;
      return text.length + 2 <= messageLimit ? `${text} ▌` : `${text.slice(0, messageLimit - 2)} ▌`;
    }
  }
}
