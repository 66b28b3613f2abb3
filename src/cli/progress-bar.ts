import type { GenerationProgress } from '../engine/index.js';

export interface ProgressBar {
  readonly update: (progress: GenerationProgress) => void;
  readonly done: () => void;
}

/** A one-line progress bar redrawn in place on a terminal; silent when the stream is not one. */
export function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }, width = 30): ProgressBar {
  if (stream.isTTY !== true) return { update: () => {}, done: () => {} };
  let drawn = false;
  return {
    update: ({ step, totalSteps }) => {
      const filled = Math.round((step / totalSteps) * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${step}/${totalSteps}`);
      drawn = true;
    },
    done: () => {
      if (drawn) stream.write('\n');
    },
  };
}
