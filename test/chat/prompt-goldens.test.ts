import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildPrompt,
  captionAnswerPrefix,
  captionQuestion,
  type Intent,
  imagePlaceholder,
  imageSystemMessage,
  videoSystemMessage,
} from '../../src/chat/index.js';
import { packageRoot } from '../../src/core/index.js';
import { fixtureCounter, fixtureTokenizer, type MediaKind, thread } from './thread.js';

interface GoldenCase {
  readonly name: string;
  readonly intent: Intent;
  readonly model: 'instruct' | 'pretrain';
  readonly messages: readonly { role: 'person' | 'bot'; text: string; media: MediaKind[] }[];
  readonly prompt: string;
  readonly ids: readonly number[];
}

const goldens = JSON.parse(
  readFileSync(join(packageRoot, 'test', 'fixtures', 'chat', 'prompt-goldens.json'), 'utf8'),
) as {
  strings: { image_placeholder: string; image_system: string; video_system: string; caption_prompt: string };
  cases: GoldenCase[];
};

describe('prompt templates', () => {
  it('are the reference strings of tools/emu_reference/prompts.py', () => {
    expect(imagePlaceholder).toBe(goldens.strings.image_placeholder);
    expect(imageSystemMessage).toBe(goldens.strings.image_system);
    expect(videoSystemMessage).toBe(goldens.strings.video_system);
    expect(goldens.strings.caption_prompt).toContain(
      `${captionQuestion} [ASSISTANT]: ${captionAnswerPrefix}`,
    );
  });
});

describe('prompt goldens (tools/fixtures/make_chat_goldens.py)', () => {
  it.each(goldens.cases.map((golden) => [golden.name, golden] as const))('%s', async (_name, golden) => {
    const { conversation, outcomes } = thread(golden.messages);
    const built = buildPrompt(conversation, outcomes, {
      intent: golden.intent,
      counter: await fixtureCounter(golden.model),
      seed: 1,
    });
    expect(built.request.model).toBe(golden.model);
    expect(built.request.prompt).toBe(golden.prompt);
    const tokenizer = await fixtureTokenizer(golden.model);
    const ids = tokenizer.encode(built.request.prompt);
    expect(ids).toEqual(golden.ids);
    // One image per [IMG] ... [/IMG] block, in placeholder order.
    const imageStart = tokenizer.tokenId('[IMG]');
    const blocks =
      ids.filter((id) => id === imageStart).length - (golden.prompt.includes('ImageContent') ? 1 : 0);
    expect(built.request.images).toHaveLength(blocks);
  });
});
