import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createSearch,
  type GenerationOptions,
  TextStreamer,
  type TokenStreamer,
} from '../../../src/engine/generation/index.js';
import { EmuTokenizer } from '../../../src/engine/tokenizer/index.js';
import { readGenerationGoldens, ToyModel } from './toy-model.js';

const fixtures = join(import.meta.dirname, '../../fixtures/tokenizer');
const tokenizer = await EmuTokenizer.fromFile(
  join(import.meta.dirname, '../../fixtures/bundles/tiny-instruct/tokenizer.json'),
);
const decodeGoldens = (
  JSON.parse(readFileSync(join(fixtures, 'goldens.json'), 'utf8')) as {
    readonly decode: { readonly name: string; readonly ids: number[]; readonly answer: string }[];
  }
).decode;

describe('TextStreamer', () => {
  it("streams exactly the reference's stripped answer for every decode golden", () => {
    const mismatches = decodeGoldens.flatMap((golden) => {
      const deltas: string[] = [];
      const streamer = new TextStreamer(tokenizer.streamingDecoder(), (delta) => deltas.push(delta));
      for (const id of golden.ids) streamer.put(id);
      streamer.end();
      const empty = deltas.some((delta) => delta.length === 0);
      return deltas.join('') === golden.answer && !empty ? [] : [`${golden.name}: ${JSON.stringify(deltas)}`];
    });
    expect(mismatches).toEqual([]);
  });

  it('holds trailing whitespace until text follows it', () => {
    const deltas: string[] = [];
    const streamer = new TextStreamer(tokenizer.streamingDecoder(), (delta) => deltas.push(delta));
    for (const id of [29871, 15043, 13, 3186, 13]) streamer.put(id); // ▁ ▁Hello \n ▁world \n
    expect(deltas).toEqual(['Hello', '\n world']);
    streamer.end();
    expect(deltas).toEqual(['Hello', '\n world']);
  });
});

/** Records what a search streams, and how many tokens it had consumed logits for at each call. */
class RecordingStreamer implements TokenStreamer {
  readonly events: string[] = [];
  step = 0;
  put(tokenId: number): void {
    this.events.push(`step ${this.step}: ${tokenId}`);
  }
  end(): void {
    this.events.push(`step ${this.step}: end`);
  }
}

describe('searches feeding a streamer', () => {
  const goldens = readGenerationGoldens();
  const model = new ToyModel(goldens.model);
  const base = { bosTokenId: 1, eosTokenId: 2, maxNewTokens: 14 };

  function run(options: GenerationOptions, streamer: RecordingStreamer) {
    const search = createSearch(options);
    let rows = [[1, 7]];
    while (!search.isDone()) {
      streamer.step += 1;
      search.consume(model.forward(rows));
      if (search.isDone()) break;
      const { tokenIds, sourceRows } = search.nextInputs();
      rows = Array.from(tokenIds, (token, row) => [...(rows[sourceRows?.[row] ?? row] ?? []), token]);
    }
    return search.result().sequences[0]?.tokenIds ?? [];
  }

  it('greedy streams each token at the step that chose it, EOS left out, then ends', () => {
    const streamer = new RecordingStreamer();
    const tokens = run({ ...base, strategy: 'greedy', streamer }, streamer);
    expect(tokens.at(-1)).toBe(2);
    const expected = tokens.slice(0, -1).map((token, index) => `step ${index + 1}: ${token}`);
    expect(streamer.events).toEqual([...expected, `step ${tokens.length}: end`]);
  });

  it('beam search streams its best sequence once, at the end', () => {
    const streamer = new RecordingStreamer();
    const tokens = run({ ...base, strategy: 'beam', numBeams: 3, lengthPenalty: 1, streamer }, streamer);
    const last = streamer.step;
    const streamed = tokens.filter((token) => token !== 2).map((token) => `step ${last}: ${token}`);
    expect(streamer.events).toEqual([...streamed, `step ${last}: end`]);
  });
});
