import sharp from 'sharp';
import type { Engine, ImageRequest, ImageResult, RunOptions } from '../../../src/engine/index.js';

/**
 * The real engine for text, and for drawing (which the ONNX engine cannot do yet) a small honest
 * stand-in: it runs the request's steps, reports progress, honours the signal, and returns a real
 * 64x64 PNG (made with sharp) whose colour follows the seed, so tests can tell drawings apart.
 * Switch the image tests to the real engine once it draws.
 */
export function withTestDrawing(engine: Engine): Engine & { readonly drawings: ImageRequest[] } {
  const drawings: ImageRequest[] = [];
  return {
    models: ['instruct', 'pretrain'],
    drawings,
    generateText: (request, options) => engine.generateText(request, options),
    async generateImage(request: ImageRequest, options: RunOptions = {}): Promise<ImageResult> {
      drawings.push(request);
      const steps = Math.min(request.settings.steps, 5);
      for (let step = 1; step <= steps; step++) {
        if (options.signal?.aborted === true) throw options.signal.reason;
        options.onProgress?.({ step, totalSteps: steps });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const seed = request.settings.seed;
      const background = { r: seed % 256, g: (seed >> 8) % 256, b: (seed >> 16) % 256 };
      const png = await sharp({ create: { width: 64, height: 64, channels: 3, background } })
        .png()
        .toBuffer();
      return { png: new Uint8Array(png), flagged: false };
    },
    close: () => engine.close(),
  };
}
