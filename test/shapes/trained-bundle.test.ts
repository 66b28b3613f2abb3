// Issue 12: the default bundles are the trained shapes Emu. The figures come from
// bench/eval-shapes.mjs (the same code `npm run eval:shapes` runs) over the fixed held-out scenes
// in test/fixtures/shapes, through dist/ (npm test builds it first): captions and answers through
// bundles/tiny-instruct, drawings through bundles/tiny-pretrain's image decoder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const instruct = join(root, 'bundles', 'tiny-instruct');
const pretrain = join(root, 'bundles', 'tiny-pretrain');
const evalScript = join(root, 'bench', 'eval-shapes.mjs');
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

interface Figures {
  scenes: number;
  drawings: number;
  caption: number;
  answer: number;
  drawColour: number | null;
  drawShape: number | null;
}

describe('the trained default bundles (bundles/tiny-instruct, bundles/tiny-pretrain)', () => {
  let figures: Figures;
  let thresholds: { caption: number; answer: number; drawColour: number; drawShape: number };

  beforeAll(async () => {
    const { evaluateShapes, THRESHOLDS } = await import(evalScript);
    figures = await evaluateShapes({ bundle: instruct, pretrain });
    thresholds = THRESHOLDS;
  }, 1_800_000);

  it('are the shapes model, the pretrain one with its trained image decoder', () => {
    const chat = manifest(instruct);
    const draw = manifest(pretrain);
    expect(chat.source.trained).toMatch(/shapes/);
    expect(chat.variant).toBe('instruct');
    expect(draw.source.trained).toMatch(/shapes/);
    expect(draw.variant).toBe('pretrain');
    expect(draw.image_decoder).not.toBeNull();
    expect(draw.image_decoder.sample_size * draw.image_decoder.vae_scale_factor).toBe(64);
  });

  it('are measured on the 200 held-out scenes and their 200 drawing prompts', () => {
    expect(figures.scenes).toBe(200);
    expect(figures.drawings).toBe(200);
    expect(figures.drawColour).not.toBeNull();
    expect(figures.drawShape).not.toBeNull();
  });

  // The thresholds (bench/eval-shapes.mjs THRESHOLDS), drawing with the bundle's own
  // defaults as `emu-bot imagine` does. The committed bundles measured 99.5% captions, 94.5%
  // answers, 99.5% drawn colour and 98.0% drawn shapes (tools/train/README.md).
  it("meet the issue's thresholds", () => {
    expect(figures.caption).toBeGreaterThanOrEqual(thresholds.caption);
    expect(figures.answer).toBeGreaterThanOrEqual(thresholds.answer);
    expect(figures.drawColour).toBeGreaterThanOrEqual(thresholds.drawColour);
    expect(figures.drawShape).toBeGreaterThanOrEqual(thresholds.drawShape);
  });

  it('draw with the guidance the trained model draws best at', () => {
    expect(manifest(pretrain).generation.image).toMatchObject({
      guidance_scale: 3,
      in_context_guidance_scale: 4,
    });
  });

  it('gives every figure as a fraction of the held-out set', () => {
    expect(thresholds).toEqual({ caption: 0.9, answer: 0.85, drawColour: 0.8, drawShape: 0.6 });
    for (const [value, of] of [
      [figures.caption, figures.scenes],
      [figures.answer, figures.scenes],
      [figures.drawColour, figures.drawings],
      [figures.drawShape, figures.drawings],
    ] as const) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
      expect(Number.isInteger(Math.round((value ?? 0) * of * 1e6) / 1e6)).toBe(true);
    }
  });
});
