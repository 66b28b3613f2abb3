import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { EmuBotError } from '../../core/index.js';
import { halvesToFloats } from '../onnx/float16.js';
import { type GraphSession, type Tensor, tensor } from '../onnx/session.js';
import type { LoadedBundle } from './load-bundle.js';

/**
 * Runs the bundle's self-check set (seeded inputs with the PyTorch reference's outputs, written
 * by the exporter) through onnxruntime and measures the largest absolute difference per output.
 */

const storedTensor = z.object({
  name: z.string(),
  file: z.string().regex(/^[\w.-]+\.bin$/),
  dtype: z.enum(['float32', 'float16', 'int64']),
  shape: z.array(z.number().int().nonnegative()),
});

const selfCheckIndex = z.object({
  format: z.literal('emu-bot-selfcheck'),
  version: z.literal(1),
  cases: z.array(
    z.object({
      name: z.string(),
      graph: z.string(),
      inputs: z.array(storedTensor),
      outputs: z.array(storedTensor.extend({ tolerance: z.number().nonnegative() })),
    }),
  ),
});

type StoredTensor = z.infer<typeof storedTensor>;

export interface SelfCheckResult {
  readonly case: string;
  readonly graph: string;
  readonly output: string;
  readonly maxAbsError: number;
  readonly tolerance: number;
  readonly passed: boolean;
}

export async function runSelfCheck(bundle: LoadedBundle): Promise<SelfCheckResult[]> {
  const relative = bundle.manifest.selfcheck;
  if (relative === null)
    throw new EmuBotError('BUNDLE_INVALID', `${bundle.directory}: the manifest names no self-check set`);
  const drawing = bundle.imageDecoder;
  const sessions = new Map<string, GraphSession>([
    [basename(bundle.vision.file), bundle.vision],
    [basename(bundle.embedTokens.file), bundle.embedTokens],
    ...bundle.decoder.map((part) => [part.entry.file, part.session] as const),
    ...(drawing === null
      ? []
      : [drawing.unet, drawing.vaeDecoder, drawing.vaeEncoder, drawing.safetyChecker].map(
          (session) => [basename(session.file), session] as const,
        )),
  ]);
  const indexes = [relative, ...(drawing?.entry.selfcheck == null ? [] : [drawing.entry.selfcheck])];
  const results: SelfCheckResult[] = [];
  for (const index of indexes) results.push(...(await runIndex(join(bundle.directory, index), sessions)));
  return results;
}

async function runIndex(
  indexFile: string,
  sessions: ReadonlyMap<string, GraphSession>,
): Promise<SelfCheckResult[]> {
  const index = await readIndex(indexFile);
  const results: SelfCheckResult[] = [];
  for (const selfCheckCase of index.cases) {
    const session = sessions.get(selfCheckCase.graph);
    if (session === undefined) {
      throw new EmuBotError(
        'BUNDLE_INVALID',
        `${indexFile}: case ${selfCheckCase.name} names unknown graph ${selfCheckCase.graph}`,
      );
    }
    const feeds: Record<string, Tensor> = {};
    for (const input of selfCheckCase.inputs) feeds[input.name] = await readTensor(dirname(indexFile), input);
    const outputs = await session.run(
      feeds,
      selfCheckCase.outputs.map((output) => output.name),
    );
    for (const expected of selfCheckCase.outputs) {
      const reference = toFloats(await readTensor(dirname(indexFile), expected));
      const actual = outputs[expected.name];
      if (actual === undefined || actual.size !== reference.length) {
        throw new EmuBotError(
          'BUNDLE_INVALID',
          `${session.file}: output ${expected.name} has the wrong size for ${selfCheckCase.name}`,
        );
      }
      const maxAbsError = maxDifference(toFloats(actual), reference);
      results.push({
        case: selfCheckCase.name,
        graph: selfCheckCase.graph,
        output: expected.name,
        maxAbsError,
        tolerance: expected.tolerance,
        passed: maxAbsError <= expected.tolerance,
      });
    }
  }
  return results;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

async function readIndex(file: string): Promise<z.infer<typeof selfCheckIndex>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new EmuBotError('BUNDLE_INVALID', `${file} cannot be read as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = selfCheckIndex.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EmuBotError('BUNDLE_INVALID', `${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

async function readTensor(directory: string, stored: StoredTensor): Promise<Tensor> {
  const file = join(directory, stored.file);
  const bytes = await readFile(file);
  const elements = stored.shape.reduce((product, size) => product * size, 1);
  const width = stored.dtype === 'float16' ? 2 : stored.dtype === 'float32' ? 4 : 8;
  if (bytes.length !== elements * width) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${file} holds ${bytes.length} bytes; ${stored.dtype}[${stored.shape.join(', ')}] needs ${elements * width}`,
    );
  }
  // Copy into a fresh, aligned buffer: typed arrays cannot view a Buffer at an odd offset.
  const buffer = new Uint8Array(bytes).buffer;
  switch (stored.dtype) {
    case 'float32':
      return tensor('float32', new Float32Array(buffer), stored.shape);
    case 'float16':
      return tensor('float16', new Uint16Array(buffer), stored.shape);
    case 'int64':
      return tensor('int64', new BigInt64Array(buffer), stored.shape);
  }
}

function toFloats(value: Tensor): Float32Array {
  if (value.type === 'float32') return value.data as Float32Array;
  if (value.type === 'float16') return halvesToFloats(value.data as Uint16Array);
  return Float32Array.from(value.data as BigInt64Array, Number);
}

function maxDifference(actual: Float32Array, reference: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < reference.length; index++) {
    const difference = Math.abs((actual[index] as number) - (reference[index] as number));
    // NaN must fail the check, and NaN never compares greater.
    if (!(difference <= largest)) largest = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference;
  }
  return largest;
}
