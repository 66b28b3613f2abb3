import { join } from 'node:path';
import type { ChatMessage, Conversation, TokenCounter } from '../../src/chat/index.js';
import { packageRoot } from '../../src/core/index.js';
import { EmuTokenizer } from '../../src/engine/tokenizer/index.js';
import type { DecodedMedia, MediaOutcome } from '../../src/media/index.js';

/** Test threads: messages from short descriptions, media as tiny distinct frames. */
export type MediaKind = 'image' | 'animation' | 'video';

export interface MessageSpec {
  readonly role: 'person' | 'bot';
  readonly text?: string;
  readonly media?: readonly MediaKind[];
  readonly replyToId?: string;
}

let frameSerial = 0;

export function fakeMedia(kind: MediaKind): DecodedMedia {
  const count = kind === 'image' ? 1 : 8;
  const frames = Array.from({ length: count }, () => {
    frameSerial += 1;
    return { width: 1, height: 1, data: Uint8Array.of(frameSerial % 256, frameSerial >> 8, 0) };
  });
  return { kind, frames };
}

export function thread(specs: readonly MessageSpec[]): {
  conversation: Conversation;
  outcomes: Map<string, MediaOutcome>;
} {
  const outcomes = new Map<string, MediaOutcome>();
  const messages = specs.map((spec, index): ChatMessage => {
    const id = `m${index}`;
    return {
      id,
      author:
        spec.role === 'bot'
          ? { id: 'bot', name: 'emu', role: 'bot' }
          : { id: 'u1', name: 'ada', role: 'person' },
      text: spec.text ?? '',
      attachments: (spec.media ?? []).map((kind, number) => {
        const attachmentId = `${id}a${number}`;
        outcomes.set(attachmentId, { ok: true, media: fakeMedia(kind) });
        return {
          id: attachmentId,
          name: `${attachmentId}.png`,
          url: `https://cdn.discordapp.com/${attachmentId}.png`,
          declaredKind: kind === 'animation' ? 'animated-image' : kind,
        };
      }),
      sentAt: 1_700_000_000_000 + index * 1000,
      ...(spec.replyToId === undefined ? {} : { replyToId: spec.replyToId }),
    };
  });
  return {
    conversation: { platform: 'discord', serverId: 'g1', channel: { id: 'c1', nsfw: false }, messages },
    outcomes,
  };
}

const tokenizers = new Map<string, Promise<EmuTokenizer>>();

/** The fixture bundles' tokenizer. */
export function fixtureTokenizer(variant: 'instruct' | 'pretrain'): Promise<EmuTokenizer> {
  let tokenizer = tokenizers.get(variant);
  if (tokenizer === undefined) {
    tokenizer = EmuTokenizer.fromFile(
      join(packageRoot, 'test', 'fixtures', 'bundles', `tiny-${variant}`, 'tokenizer.json'),
    );
    tokenizers.set(variant, tokenizer);
  }
  return tokenizer;
}

export async function fixtureCounter(variant: 'instruct' | 'pretrain' = 'instruct'): Promise<TokenCounter> {
  const tokenizer = await fixtureTokenizer(variant);
  return { countTokens: (text) => tokenizer.encode(text).length };
}
