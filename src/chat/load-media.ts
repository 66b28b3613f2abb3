import { EmuBotError } from '../core/index.js';
import type { FilePlatform, MediaDecoder, MediaOutcome } from '../media/index.js';
import { loadAttachments } from '../media/index.js';
import { type Attachment, type Conversation, requestMessage } from './conversation.js';

/** Anything that fetches a platform's file by URL: the media downloader. */
export interface PlatformFileFetcher {
  download(platform: FilePlatform, url: string, signal?: AbortSignal): Promise<Uint8Array>;
}

/** The attachments a prompt may use: images, animations and videos up to the request (`other` is left alone). */
export function mediaAttachments(conversation: Conversation): Attachment[] {
  const request = requestMessage(conversation);
  const upTo = request === undefined ? 0 : conversation.messages.indexOf(request) + 1;
  return conversation.messages
    .slice(0, upTo)
    .flatMap((message) => message.attachments.filter((attachment) => attachment.declaredKind !== 'other'));
}

/** Downloads (now: platform URLs expire) and decodes the conversation's media, one outcome per attachment. */
export function loadConversationMedia(
  conversation: Conversation,
  fetcher: PlatformFileFetcher,
  decoder: MediaDecoder,
  signal?: AbortSignal,
): Promise<Map<string, MediaOutcome>> {
  const { platform } = conversation;
  if (platform === 'console') {
    throw new EmuBotError('INTERNAL', 'console attachments are local files: read them with loadAttachments');
  }
  return loadAttachments(
    mediaAttachments(conversation),
    (attachment, abort) => fetcher.download(platform, attachment.url, abort),
    decoder,
    signal,
  );
}
