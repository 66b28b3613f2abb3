import { describe, expect, it } from 'vitest';
import { imageReply, omissionNote, problemNotes } from '../../src/chat/index.js';
import { EmuBotError } from '../../src/core/index.js';

const blurrer = { blurPng: async (png: Uint8Array) => Uint8Array.from(png, () => 0) };
const png = Uint8Array.of(1, 2, 3);

describe('imageReply', () => {
  it('posts an unflagged image as a PNG with alt text', async () => {
    const reply = await imageReply({ png, flagged: false }, 'a red fox', 'refuse', blurrer);
    expect(reply).toEqual({
      image: { png, fileName: 'emu.png', altText: 'Image drawn by Emu from: a red fox', spoiler: false },
    });
  });

  it('refuses a flagged image with a polite note', async () => {
    const reply = await imageReply({ png, flagged: true }, 'x', 'refuse', blurrer);
    expect(reply.image).toBeUndefined();
    expect(reply.note).toContain('safety checker flagged');
  });

  it('blurs, marks and hides a flagged image when configured', async () => {
    const reply = await imageReply({ png, flagged: true }, 'x', 'blur', blurrer);
    expect(reply.image?.png).toEqual(Uint8Array.of(0, 0, 0));
    expect(reply.image?.spoiler).toBe(true);
    expect(reply.image?.altText.startsWith('Blurred: flagged by the safety checker.')).toBe(true);
  });

  it('keeps alt text within the platforms’ limit', async () => {
    const reply = await imageReply({ png, flagged: false }, 'fox '.repeat(500), 'refuse', blurrer);
    expect(reply.image?.altText.length).toBe(1000);
  });
});

describe('notes', () => {
  it('say nothing when nothing was left out', () => {
    expect(omissionNote({ messages: 0, images: 0, videos: 0, truncatedWords: 0 })).toBeUndefined();
  });

  it('say what the budget left out', () => {
    expect(omissionNote({ messages: 3, images: 2, videos: 0, truncatedWords: 0 })).toBe(
      'I could not fit everything, so I left out 3 earlier messages, 2 images among them.',
    );
    expect(omissionNote({ messages: 0, images: 1, videos: 1, truncatedWords: 120 })).toBe(
      'I could not fit everything, so I left out 1 image and 1 video. I read only the end of your message (the first 120 words did not fit).',
    );
  });

  it('name each skipped attachment with the error’s message for people', () => {
    const problem = {
      attachment: {
        id: 'a',
        name: 'cat.heic',
        url: 'https://cdn.discordapp.com/a',
        declaredKind: 'image' as const,
      },
      messageId: 'm1',
      error: new EmuBotError('MEDIA_UNSUPPORTED', 'HEIC', { userMessage: 'I cannot read HEIC photos.' }),
    };
    expect(problemNotes([problem])).toEqual(['I skipped cat.heic: I cannot read HEIC photos.']);
  });
});
