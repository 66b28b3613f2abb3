import { describe, expect, it } from 'vitest';
import { buildPrompt, captionAnswerPrefix, defaultIntent, type Intent } from '../../src/chat/index.js';
import { EmuBotError, isEmuBotError } from '../../src/core/index.js';
import { fixtureCounter, type MessageSpec, thread } from './thread.js';

async function build(specs: readonly MessageSpec[], intent: Intent, broken: readonly string[] = []) {
  const { conversation, outcomes } = thread(specs);
  for (const id of broken)
    outcomes.set(id, { ok: false, error: new EmuBotError('MEDIA_UNDECODABLE', `${id} is broken`) });
  return buildPrompt(conversation, outcomes, { intent, counter: await fixtureCounter(), seed: 42 });
}

async function failure(specs: readonly MessageSpec[], intent: Intent, broken: readonly string[] = []) {
  const error = await build(specs, intent, broken).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isEmuBotError(error)) throw new Error('expected an EmuBotError');
  return error;
}

describe('buildPrompt', () => {
  it('answers with the reference settings, and length penalty 1 for a video', async () => {
    const image = await build([{ role: 'person', text: 'what is it?', media: ['image'] }], 'answer');
    expect(image.kind === 'text' && image.request.settings).toEqual({
      maxNewTokens: 128,
      numBeams: 5,
      lengthPenalty: 0,
      minLength: 1,
      repetitionPenalty: 1,
    });
    const video = await build([{ role: 'person', text: 'what happens?', media: ['animation'] }], 'answer');
    expect(video.request.prompt.startsWith('You are a helpful assistant')).toBe(true);
    expect(video.kind === 'text' && video.request.settings.lengthPenalty).toBe(1);
  });

  it('describes the request’s image with the caption prompt, 512 new tokens and the answer prefix', async () => {
    const built = await build([{ role: 'person', media: ['image'] }], 'describe');
    expect(built.kind === 'text' && built.answerPrefix).toBe(captionAnswerPrefix);
    expect(built.kind === 'text' && built.request.settings.maxNewTokens).toBe(512);
  });

  it('describes the image a text-only request replies to', async () => {
    const built = await build(
      [
        { role: 'person', text: 'look', media: ['image'] },
        { role: 'person', text: 'other', media: ['image', 'image'] },
        { role: 'person', text: 'describe that', replyToId: 'm0' },
      ],
      'describe',
    );
    expect(built.request.images).toHaveLength(1);
    expect(built.request.prompt.startsWith('You will be presented with an image')).toBe(true);
  });

  it('picks describe for a bare image and answer otherwise', () => {
    expect(defaultIntent(thread([{ role: 'person', media: ['image'] }]).conversation)).toBe('describe');
    expect(defaultIntent(thread([{ role: 'person', text: 'hi', media: ['image'] }]).conversation)).toBe(
      'answer',
    );
  });

  it('answers without a bad attachment and lists it', async () => {
    const built = await build(
      [{ role: 'person', text: 'what are these?', media: ['image', 'image'] }],
      'answer',
      ['m0a0'],
    );
    expect(built.request.images).toHaveLength(1);
    expect(built.problems.map((problem) => problem.error.code)).toEqual(['MEDIA_UNDECODABLE']);
  });

  it('says what was wrong with the only attachment of an otherwise empty request', async () => {
    expect((await failure([{ role: 'person', media: ['image'] }], 'answer', ['m0a0'])).code).toBe(
      'MEDIA_UNDECODABLE',
    );
    const empty = await failure([{ role: 'person', text: '  ' }], 'answer');
    expect(empty.code).toBe('REQUEST_UNSUPPORTED');
    expect(empty.userMessage).toContain('ask me something');
  });

  it('ignores messages after the request, and the bot’s trailing ones', async () => {
    const built = await build(
      [
        { role: 'person', text: 'first' },
        { role: 'bot', text: 'typing…' },
      ],
      'answer',
    );
    expect(built.request.prompt).toBe('[USER]: first [ASSISTANT]:');
  });

  it('draws on the pretrained model with the reference guidance per kind', async () => {
    const text = await build([{ role: 'person', text: 'a red fox' }], 'imagine');
    expect(text.kind === 'image' && [text.drawing, text.request.settings]).toEqual([
      'text-to-image',
      // Guidance and size are the drawing model's own (the engine's resolveImageSettings).
      { seed: 42, steps: 50 },
    ]);
    const context = await build(
      [{ role: 'person', text: 'the fox in the snow', media: ['image'] }],
      'imagine',
    );
    expect(context.kind === 'image' && context.drawing).toBe('in-context');
    expect(context.request.model).toBe('pretrain');
  });

  it('refuses to draw from a video, from five images, or from nothing', async () => {
    expect((await failure([{ role: 'person', media: ['video'] }], 'imagine')).userMessage).toContain(
      'still images',
    );
    expect(
      (await failure([{ role: 'person', media: Array(5).fill('image') }], 'imagine')).userMessage,
    ).toContain('at most 4');
    expect((await failure([{ role: 'person', text: '' }], 'imagine')).code).toBe('REQUEST_UNSUPPORTED');
  });

  it('refuses a drawing prompt too long for the context instead of cutting it', async () => {
    const error = await failure([{ role: 'person', text: 'fox '.repeat(3000) }], 'imagine');
    expect(error.code).toBe('PROMPT_TOO_LONG');
  });
});
