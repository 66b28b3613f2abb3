import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmuBotError } from '../../core/index.js';
import { manifestFileName } from '../bundle-directory.js';
import { parseSchedulerConfig, type SchedulerConfig } from '../image/schedulers/index.js';
import { GraphSession, type SessionSettings, type TensorSpec } from '../onnx/session.js';
import {
  type DecoderEntry,
  type GraphEntry,
  type ImageDecoderEntry,
  type Manifest,
  parseManifest,
  type ValueSpec,
} from './manifest.js';

/** The drawing half: present when the bundle was exported with the image decoder. */
export interface LoadedImageDecoder {
  readonly entry: ImageDecoderEntry;
  readonly unet: GraphSession;
  readonly vaeDecoder: GraphSession;
  readonly vaeEncoder: GraphSession;
  readonly safetyChecker: GraphSession;
  readonly scheduler: SchedulerConfig;
}

export interface DecoderPart {
  readonly entry: DecoderEntry;
  readonly session: GraphSession;
}

/** A bundle with one session per graph. Its owner calls `release()`. */
export interface LoadedBundle {
  readonly directory: string;
  readonly manifest: Manifest;
  readonly vision: GraphSession;
  readonly embedTokens: GraphSession;
  readonly decoder: readonly DecoderPart[];
  /** Null when the bundle cannot draw (instruct bundles, or exported without `--decoder`). */
  readonly imageDecoder: LoadedImageDecoder | null;
  release(): Promise<void>;
}

export interface BundleSessionSettings extends Omit<SessionSettings, 'device'> {
  /**
   * Devices for the decoder's layer ranges, in order (range i runs on `devices[i % length]`); the
   * vision and embedding graphs run on the first.
   */
  readonly devices: readonly SessionSettings['device'][];
}

export async function readManifest(directory: string): Promise<Manifest> {
  const file = join(directory, manifestFileName);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EmuBotError('BUNDLE_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseManifest(json, file);
}

export async function loadBundle(directory: string, settings: BundleSessionSettings): Promise<LoadedBundle> {
  const manifest = await readManifest(directory);
  const graphs = manifest.graphs;
  if (graphs === null) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${join(directory, manifestFileName)} has no graphs (a tokenizer-only bundle)`,
    );
  }
  const drawing = manifest.image_decoder;
  const entries: GraphEntry[] = [
    graphs.vision,
    graphs.embed_tokens,
    ...graphs.decoder,
    ...(drawing === null ? [] : Object.values(drawing.graphs)),
  ];
  await Promise.all(
    entries
      .flatMap((entry) => [entry.file, ...entry.external_data])
      .map((file) => mustExist(directory, file)),
  );
  await mustExist(directory, manifest.tokenizer);
  const scheduler = drawing === null ? null : await readScheduler(directory, drawing.scheduler);

  const device = (index: number) =>
    settings.devices[index % settings.devices.length] ?? { kind: 'cpu' as const };
  const loaded: GraphSession[] = [];
  const load = async (entry: GraphEntry, deviceIndex: number): Promise<GraphSession> => {
    const session = await GraphSession.load(join(directory, entry.file), {
      ...settings,
      device: device(deviceIndex),
    });
    loaded.push(session);
    checkSignature(session, entry);
    return session;
  };
  try {
    const vision = await load(graphs.vision, 0);
    const embedTokens = await load(graphs.embed_tokens, 0);
    const decoder: DecoderPart[] = [];
    for (const [index, entry] of graphs.decoder.entries())
      decoder.push({ entry, session: await load(entry, index) });
    const imageDecoder =
      drawing === null || scheduler === null
        ? null
        : {
            entry: drawing,
            unet: await load(drawing.graphs.unet, 0),
            vaeDecoder: await load(drawing.graphs.vae_decoder, 0),
            vaeEncoder: await load(drawing.graphs.vae_encoder, 0),
            safetyChecker: await load(drawing.graphs.safety_checker, 0),
            scheduler,
          };
    return {
      directory,
      manifest,
      imageDecoder,
      vision,
      embedTokens,
      decoder,
      release: async () => {
        await Promise.all(loaded.map((session) => session.release()));
      },
    };
  } catch (error) {
    await Promise.all(loaded.map((session) => session.release()));
    throw error;
  }
}

async function readScheduler(directory: string, file: string): Promise<SchedulerConfig> {
  const path = join(directory, file);
  try {
    return parseSchedulerConfig(JSON.parse(await readFile(path, 'utf8')), path);
  } catch (error) {
    if (error instanceof EmuBotError) throw error;
    throw new EmuBotError('BUNDLE_INVALID', `${path} cannot be read as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function mustExist(directory: string, file: string): Promise<void> {
  try {
    await access(join(directory, file), constants.R_OK);
  } catch {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${join(directory, file)} is missing or unreadable; the manifest lists it`,
    );
  }
}

/** The graph must have exactly the inputs and outputs the manifest promises. */
function checkSignature(session: GraphSession, entry: GraphEntry): void {
  compare(session.file, 'input', session.inputs, entry.inputs);
  compare(session.file, 'output', session.outputs, entry.outputs);
}

function compare(
  file: string,
  kind: string,
  actual: readonly TensorSpec[],
  promised: readonly ValueSpec[],
): void {
  const byName = new Map(actual.map((spec) => [spec.name, spec]));
  for (const spec of promised) {
    const found = byName.get(spec.name);
    if (found === undefined) {
      throw new EmuBotError(
        'BUNDLE_INVALID',
        `${file}: the manifest lists ${kind} ${spec.name}, which the graph lacks`,
      );
    }
    const fixedSizesDiffer = spec.shape.some((size, axis) => {
      const other = found.shape[axis];
      return typeof size === 'number' && typeof other === 'number' && size !== other;
    });
    if (found.type !== spec.dtype || found.shape.length !== spec.shape.length || fixedSizesDiffer) {
      throw new EmuBotError(
        'BUNDLE_INVALID',
        `${file}: ${kind} ${spec.name} is ${found.type}[${found.shape.join(', ')}] but the manifest says ${spec.dtype}[${spec.shape.join(', ')}]`,
      );
    }
    byName.delete(spec.name);
  }
  if (byName.size > 0) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${file}: ${kind}s not in the manifest: ${[...byName.keys()].join(', ')}`,
    );
  }
}
