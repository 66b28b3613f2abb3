import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Conversation } from '../chat/index.js';
import type { Config } from '../config/index.js';
import { EmuBotError, toEmuBotError } from '../core/index.js';
import { createPixelsDecoder, type MediaOutcome } from '../media/index.js';

export interface LocalFile {
  readonly path: string;
  readonly kind: 'image' | 'video';
}

export interface LocalRequest {
  readonly conversation: Conversation;
  /** Each file decoded (or the reason it could not be), keyed by attachment id. */
  readonly outcomes: Map<string, MediaOutcome>;
}

/**
 * A one-message console conversation from a command line's text and files, with the files read
 * and decoded as attachments from a chat would be (the same limits, the same errors).
 */
export async function localRequest(
  text: string,
  files: readonly LocalFile[],
  media: Config['media'],
  signal: AbortSignal,
): Promise<LocalRequest> {
  const decoder = createPixelsDecoder(media);
  const outcomes = new Map<string, MediaOutcome>();
  for (const [index, file] of files.entries()) {
    try {
      const bytes = await readFile(file.path).catch((error: NodeJS.ErrnoException) => {
        throw new EmuBotError('MEDIA_UNDECODABLE', `${file.path}: ${error.code ?? error.message}`, {
          cause: error,
        });
      });
      outcomes.set(`attachment-${index}`, {
        ok: true,
        media: await decoder.decode(new Uint8Array(bytes), signal),
      });
    } catch (error) {
      outcomes.set(`attachment-${index}`, { ok: false, error: toEmuBotError(error) });
    }
  }
  const conversation: Conversation = {
    platform: 'console',
    channel: { id: 'console', nsfw: false },
    messages: [
      {
        id: 'request',
        author: { id: 'you', name: 'you', role: 'person' },
        text,
        attachments: files.map((file, index) => ({
          id: `attachment-${index}`,
          name: basename(file.path),
          url: `file://${file.path}`,
          declaredKind: file.kind,
        })),
        sentAt: Date.now(),
      },
    ],
  };
  return { conversation, outcomes };
}

/** commander option parsers shared by the commands that take numbers. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return parsed;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
