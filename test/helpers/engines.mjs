// Small engines that implement emu-bot's Engine interface (src/engine/requests.ts) honestly,
// for tests and the benchmark: they answer every request, stream text and steps, honour the
// AbortSignal, and take as long as they are told to. Plain JavaScript, so that worker child
// processes (which run the built dist/) can load them too.

// A valid 1x1 black PNG.
const onePixelPng = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC',
    'base64',
  ),
);

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An engine that echoes the prompt back word by word (`steps` words) and draws a one-pixel
 * image, taking `delayMs` per request. With `delayMs` 0 it answers at once without timers: the
 * no-op engine of the benchmark. `stats` counts calls and the most run at once.
 */
export function createTestEngine({ models = ['instruct', 'pretrain'], delayMs = 0, steps = 3 } = {}) {
  const stats = { calls: 0, active: 0, maxActive: 0, prompts: [], closed: false };
  const run = async (signal, each) => {
    stats.calls += 1;
    stats.active += 1;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    try {
      if (signal?.aborted) throw signal.reason;
      for (let step = 1; step <= steps; step++) {
        if (delayMs > 0) await sleep(delayMs / steps, signal);
        each(step);
      }
    } finally {
      stats.active -= 1;
    }
  };
  return {
    models,
    stats,
    async generateText(request, options = {}) {
      stats.prompts.push(request.prompt);
      const words = `echo ${request.prompt}`.split(' ');
      await run(options.signal, (step) => {
        if (step <= words.length) options.onText?.(`${step > 1 ? ' ' : ''}${words[step - 1]}`);
      });
      return {
        text: `echo ${request.prompt}`,
        tokenIds: words.map((_, index) => index + 3),
        promptTokens: request.prompt.length,
        finishReason: 'eos',
      };
    },
    async generateImage(request, options = {}) {
      stats.prompts.push(request.prompt);
      await run(options.signal, (step) => options.onProgress?.({ step, totalSteps: steps }));
      return { png: onePixelPng, flagged: false };
    },
    async close() {
      stats.closed = true;
    },
  };
}
