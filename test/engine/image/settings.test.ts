import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Manifest, readManifest } from '../../../src/engine/bundle/index.js';
import { resolveImageSettings } from '../../../src/engine/image/settings.js';
import type { ImageRequest, RgbImage } from '../../../src/engine/requests.js';
import { fixtureBundles } from '../helpers.js';

const placeholder = `[IMG]${'<image>'.repeat(32)}[/IMG]`;
const pixel: RgbImage = { width: 1, height: 1, data: new Uint8Array(3) };
const request = (prompt: string, images: number, settings: Partial<ImageRequest['settings']> = {}) =>
  ({
    model: 'pretrain',
    prompt,
    images: Array.from({ length: images }, () => pixel),
    settings: { seed: 1, steps: 5, ...settings },
  }) as ImageRequest;

describe('resolveImageSettings', () => {
  it("fills guidance and size from the bundle's drawing defaults", async () => {
    const manifest = await readManifest(join(fixtureBundles, 'tiny-pretrain'));
    // The fixture's decoder draws 64x64 (8 latents x 8); its guidance is the reference's.
    expect(resolveImageSettings(request('a red circle', 0), manifest).settings).toEqual({
      seed: 1,
      steps: 5,
      guidanceScale: 7.5,
      width: 64,
      height: 64,
    });
    // Images and text are Emu's in-context generation; images alone are a blend.
    const inContext = `This is the first image: ${placeholder}in the snow: `;
    expect(resolveImageSettings(request(inContext, 1), manifest).settings.guidanceScale).toBe(10);
    expect(resolveImageSettings(request(placeholder.repeat(2), 2), manifest).settings.guidanceScale).toBe(
      7.5,
    );
  });

  it("takes a model's own defaults, and what the request sets over them", async () => {
    const fixture = await readManifest(join(fixtureBundles, 'tiny-pretrain'));
    const image = {
      guidance_scale: 3,
      in_context_guidance_scale: 4,
      num_inference_steps: 50,
      height: 96,
      width: 128,
    };
    const manifest: Manifest = { ...fixture, generation: { ...fixture.generation, image } };
    expect(resolveImageSettings(request('a red circle', 0), manifest).settings).toMatchObject({
      guidanceScale: 3,
      width: 128,
      height: 96,
    });
    expect(
      resolveImageSettings(request(`${placeholder}the same, in blue`, 1), manifest).settings.guidanceScale,
    ).toBe(4);
    const asked = request('a red circle', 0, { guidanceScale: 1, width: 32, height: 40, scheduler: 'ddim' });
    expect(resolveImageSettings(asked, manifest).settings).toEqual(asked.settings);
  });

  it("uses the reference's settings for a bundle that declares none", async () => {
    const fixture = await readManifest(join(fixtureBundles, 'tiny-pretrain'));
    const { image: _image, ...rest } = fixture.generation;
    const manifest: Manifest = { ...fixture, generation: rest };
    expect(resolveImageSettings(request('a red circle', 0), manifest).settings).toMatchObject({
      guidanceScale: 7.5,
      width: 512,
      height: 512,
    });
  });
});
