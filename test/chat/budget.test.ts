import { describe, expect, it } from 'vitest';
import { buildPrompt, imagePlaceholder, type TokenCounter } from '../../src/chat/index.js';
import { isEmuBotError } from '../../src/core/index.js';
import { fixtureCounter, type MessageSpec, thread } from './thread.js';

const answerTokens = 128;

function placeholderCount(prompt: string): number {
  return prompt.split(imagePlaceholder).length - 1;
}

async function answer(
  specs: readonly MessageSpec[],
  extra: { maxImages?: number; maxNewTokens?: number } = {},
) {
  const { conversation, outcomes } = thread(specs);
  const counter = await fixtureCounter();
  const built = buildPrompt(conversation, outcomes, {
    intent: 'answer',
    counter,
    seed: 1,
    ...(extra.maxImages === undefined ? {} : { maxImages: extra.maxImages }),
    ...(extra.maxNewTokens === undefined ? {} : { text: { maxNewTokens: extra.maxNewTokens } }),
  });
  return { built, counter };
}

function fits(counter: TokenCounter, prompt: string, reserved = answerTokens): boolean {
  return counter.countTokens(prompt) + reserved <= 2048;
}

describe('context budget', () => {
  it('takes a whole thread of 40 images when it fits, and the newest 16 under the queue cap', async () => {
    const specs: MessageSpec[] = Array.from({ length: 40 }, (_, index) => ({
      role: 'person',
      text: `#${index}`,
      media: ['image'],
    }));
    specs.push({ role: 'person', text: 'Which one is blurred?' });
    const all = await answer(specs);
    expect(all.built.request.images).toHaveLength(40);
    expect(all.built.omission).toEqual({ messages: 0, images: 0, videos: 0, truncatedWords: 0 });
    expect(fits(all.counter, all.built.request.prompt)).toBe(true);
    const capped = await answer(specs, { maxImages: 16 });
    expect(capped.built.request.images).toHaveLength(16);
    expect(capped.built.omission).toMatchObject({ messages: 24, images: 24 });
    expect(capped.built.request.prompt).toContain('#24');
    expect(capped.built.request.prompt).not.toContain('#23');
  });

  it('keeps the newest of 40 captioned image messages and drops the oldest whole', async () => {
    const specs: MessageSpec[] = Array.from({ length: 40 }, (_, index) => ({
      role: 'person',
      text: `Photo number ${index} from the trip to the mountains, taken early in the morning.`,
      media: ['image'],
    }));
    specs.push({ role: 'person', text: 'Which photo has the most people?' });
    const { built, counter } = await answer(specs);
    const { prompt, images } = built.request;
    expect(fits(counter, prompt)).toBe(true);
    expect(placeholderCount(prompt)).toBe(images.length);
    expect(built.omission.messages).toBe(40 - images.length);
    expect(built.omission.images).toBe(40 - images.length);
    expect(prompt).toContain('Photo number 39 from the trip');
    expect(prompt).not.toContain('Photo number 0 ');
    expect(prompt.endsWith('Which photo has the most people? [ASSISTANT]:')).toBe(true);
    // Nothing more would have fitted: the next older message makes it too long.
    const kept = images.length;
    expect(kept).toBeGreaterThan(30);
    const older = `${imagePlaceholder}Photo number ${39 - kept} from the trip to the mountains, taken early in the morning.`;
    expect(fits(counter, `${older}\n${prompt}`)).toBe(false);
  });

  it('leaves out the oldest images of one message with 60 images, keeping its question', async () => {
    const { built, counter } = await answer([
      { role: 'person', text: 'What do these have in common?', media: Array(60).fill('image') },
    ]);
    expect(fits(counter, built.request.prompt)).toBe(true);
    expect(built.request.images.length).toBe(60 - built.omission.images);
    expect(fits(counter, imagePlaceholder + built.request.prompt)).toBe(false);
    expect(built.omission.images).toBeGreaterThan(0);
    expect(built.omission.truncatedWords).toBe(0);
    expect(built.request.prompt).toContain('What do these have in common? [ASSISTANT]:');
  });

  it('cuts a 10,000-word message from its start, keeping as much of its end as fits', async () => {
    const words = Array.from({ length: 10_000 }, (_, index) => `w${index}`);
    const { built, counter } = await answer([{ role: 'person', text: words.join(' ') }]);
    const { prompt } = built.request;
    const cut = built.omission.truncatedWords;
    expect(cut).toBeGreaterThan(9000);
    expect(prompt).toBe(`[USER]: ${words.slice(cut).join(' ')} [ASSISTANT]:`);
    expect(fits(counter, prompt)).toBe(true);
    expect(fits(counter, `[USER]: ${words.slice(cut - 1).join(' ')} [ASSISTANT]:`)).toBe(false);
  });

  it('never cuts inside a video: its 8 frames go or stay together', async () => {
    const filler = 'word '.repeat(500);
    const { built } = await answer([
      { role: 'person', text: filler, media: ['video'] },
      { role: 'person', text: filler, media: ['video'] },
      { role: 'person', text: filler, media: ['video'] },
      { role: 'person', text: 'Which clip is longest?' },
    ]);
    expect(built.request.images.length % 8).toBe(0);
    expect(placeholderCount(built.request.prompt)).toBe(built.request.images.length);
    expect(built.omission.videos).toBeGreaterThan(0);
  });

  it('keeps the message the request replies to until every other earlier message is gone', async () => {
    const filler = 'some chatter '.repeat(400);
    const { built } = await answer([
      { role: 'person', text: 'the pinned photo', media: ['image'] },
      { role: 'person', text: `${filler} one` },
      { role: 'person', text: `${filler} two` },
      { role: 'person', text: `${filler} three` },
      { role: 'person', text: 'What is in it?', replyToId: 'm0' },
    ]);
    expect(built.request.prompt).toContain('the pinned photo');
    expect(built.request.prompt).not.toContain(' one');
    expect(built.omission.messages).toBeGreaterThan(0);
    expect(built.request.images).toHaveLength(1);
  });

  it('starts the kept thread with a user turn, counting a bot reply left at its head as left out', async () => {
    const filler = 'long question text '.repeat(700);
    const { built } = await answer([
      { role: 'person', text: filler },
      { role: 'bot', text: 'An answer that is now without its question.' },
      { role: 'person', text: 'Short follow-up.' },
    ]);
    expect(built.request.prompt).toBe('[USER]: Short follow-up. [ASSISTANT]:');
    expect(built.omission.messages).toBe(2);
  });

  it('keeps no more images than the queue accepts', async () => {
    const { built } = await answer(
      [
        { role: 'person', text: 'a', media: ['image', 'image', 'image'] },
        { role: 'person', text: 'b', media: ['video'] },
      ],
      { maxImages: 8 },
    );
    expect(built.request.images).toHaveLength(8);
    expect(built.omission).toMatchObject({ messages: 1, images: 3 });
  });

  it('says PROMPT_TOO_LONG when not even the request fits with room for the answer', async () => {
    const failure = await answer([{ role: 'person', text: 'hello there' }], { maxNewTokens: 2046 }).catch(
      (error) => error,
    );
    expect(isEmuBotError(failure, 'PROMPT_TOO_LONG')).toBe(true);
  });
});
