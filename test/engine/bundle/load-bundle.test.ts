import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmuBotError, packageRoot } from '../../../src/core/index.js';
import { type BundleSessionSettings, loadBundle, runSelfCheck } from '../../../src/engine/index.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'bundles');
const settings: BundleSessionSettings = {
  devices: [{ kind: 'cpu' }],
  intraOpThreads: 1,
  interOpThreads: 1,
  graphOptimization: 'all',
};

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'emu-bot-bundle-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function copyBundle(name: string): Promise<string> {
  const target = join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);
  await cp(join(fixtures, name), target, { recursive: true });
  return target;
}

async function editManifest(
  directory: string,
  edit: (manifest: Record<string, unknown>) => void,
): Promise<void> {
  const file = join(directory, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  await writeFile(file, JSON.stringify(manifest));
}

async function loadError(directory: string): Promise<EmuBotError> {
  return loadBundle(directory, settings).then(
    () => {
      throw new Error('expected the bundle to be rejected');
    },
    (error: EmuBotError) => error,
  );
}

describe('loadBundle', () => {
  it.each(['tiny-instruct', 'tiny-pretrain', 'tiny-pretrain-split2-fp16'])(
    'loads %s and its self-check agrees with PyTorch',
    async (name) => {
      const bundle = await loadBundle(join(fixtures, name), settings);
      try {
        const results = await runSelfCheck(bundle);
        expect(results.length).toBeGreaterThan(5);
        const failures = results.filter((result) => !result.passed);
        expect(failures).toEqual([]);
        const graphs = new Set(results.map((result) => result.graph));
        const drawing = ['unet.onnx', 'vae_decoder.onnx', 'vae_encoder.onnx', 'safety_checker.onnx'];
        for (const graph of drawing) expect(graphs.has(graph)).toBe(bundle.manifest.variant === 'pretrain');
        expect(bundle.imageDecoder === null).toBe(bundle.manifest.variant === 'instruct');
        const worst = Math.max(...results.map((result) => result.maxAbsError));
        expect(worst).toBeLessThan(bundle.manifest.dtype === 'float32' ? 1e-4 : 5e-2);
      } finally {
        await bundle.release();
      }
    },
  );

  it("splits the decoder into the manifest's layer ranges", async () => {
    const bundle = await loadBundle(join(fixtures, 'tiny-pretrain-split2-fp16'), settings);
    try {
      expect(bundle.decoder.map((part) => part.entry.layers)).toEqual([
        [0, 1],
        [1, 2],
      ]);
      expect(bundle.decoder[1]?.session.inputs.map((input) => input.name)).toContain('hidden_states');
    } finally {
      await bundle.release();
    }
  });

  it('names the missing file', async () => {
    const directory = await copyBundle('tiny-instruct');
    await rm(join(directory, 'vision.onnx'));
    const error = await loadError(directory);
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe(
      `${join(directory, 'vision.onnx')} is missing or unreadable; the manifest lists it`,
    );
  });

  it('names the manifest field at fault', async () => {
    const directory = await copyBundle('tiny-instruct');
    await editManifest(directory, (manifest) => {
      (manifest['model'] as Record<string, unknown>)['hidden_size'] = 'wide';
    });
    const error = await loadError(directory);
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toContain('manifest.json: model.hidden_size:');
  });

  it('refuses a manifest of another format version', async () => {
    const directory = await copyBundle('tiny-instruct');
    await editManifest(directory, (manifest) => {
      manifest['version'] = 2;
    });
    expect((await loadError(directory)).message).toContain('version');
  });

  it('refuses layer ranges that do not cover the decoder', async () => {
    const directory = await copyBundle('tiny-pretrain-split2-fp16');
    await editManifest(directory, (manifest) => {
      const graphs = manifest['graphs'] as { decoder: unknown[] };
      graphs.decoder = graphs.decoder.slice(0, 1);
    });
    expect((await loadError(directory)).message).toContain(
      'graphs.decoder covers 1 of model.num_layers 2 layers',
    );
  });

  it('asks for a new export of a decoder whose heads share one position count', async () => {
    const directory = await copyBundle('tiny-instruct');
    await editManifest(directory, (manifest) => {
      const [decoder] = (manifest['graphs'] as { decoder: { inputs: { name: string }[] }[] }).decoder;
      if (decoder === undefined) throw new Error('the fixture has no decoder');
      decoder.inputs = decoder.inputs.filter((input) => input.name !== 'num_regressed_to_keep');
    });
    const error = await loadError(directory);
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toContain('decoder.onnx needs the int64 scalar input num_regressed_to_keep');
    expect(error.message).toContain('export the bundle again');
  });

  it('names a tensor whose signature differs from the manifest', async () => {
    const directory = await copyBundle('tiny-instruct');
    await editManifest(directory, (manifest) => {
      const vision = (manifest['graphs'] as { vision: { inputs: { name: string }[] } }).vision;
      (vision.inputs[0] as { name: string }).name = 'pixels';
    });
    const error = await loadError(directory);
    expect(error.message).toContain('vision.onnx: the manifest lists input pixels, which the graph lacks');
  });

  it('reports a corrupt graph file as a bundle problem', async () => {
    const directory = await copyBundle('tiny-instruct');
    await writeFile(join(directory, 'embed_tokens.onnx'), 'not a protobuf');
    const error = await loadError(directory);
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toContain('embed_tokens.onnx: onnxruntime cannot load it');
  });
});
