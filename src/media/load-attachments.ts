import { EmuBotError, toEmuBotError } from '../core/index.js';
import type { DecodedMedia } from './decoded-media.js';

/** Bytes -> model-ready media; throws MEDIA_UNSUPPORTED, MEDIA_UNDECODABLE or MEDIA_TOO_LARGE. */
export interface MediaDecoder {
  decode(bytes: Uint8Array, signal?: AbortSignal): Promise<DecodedMedia>;
}

export interface AttachmentToLoad {
  readonly id: string;
  readonly name: string;
  readonly url: string;
}

/** Gets an attachment's bytes: the downloader for Discord and Slack, the file system for the console. */
export type FetchAttachment = (attachment: AttachmentToLoad, signal?: AbortSignal) => Promise<Uint8Array>;

/** The outcome of fetching and decoding one attachment. */
export type MediaOutcome =
  | { readonly ok: true; readonly media: DecodedMedia }
  | { readonly ok: false; readonly error: EmuBotError };

/**
 * Fetches and decodes attachments side by side (the fetcher bounds how many at once). One bad
 * attachment becomes a failed outcome and the others go on; only cancelling `signal` fails the
 * whole call, with ABORTED.
 */
export async function loadAttachments(
  attachments: readonly AttachmentToLoad[],
  fetchAttachment: FetchAttachment,
  decoder: MediaDecoder,
  signal?: AbortSignal,
): Promise<Map<string, MediaOutcome>> {
  const load = async (attachment: AttachmentToLoad): Promise<MediaOutcome> => {
    try {
      const bytes = await fetchAttachment(attachment, signal);
      if (bytes.byteLength === 0) {
        throw new EmuBotError(
          'MEDIA_UNDECODABLE',
          `attachment ${attachment.id} (${attachment.name}) is empty`,
          {
            userMessage: `${attachment.name} is empty.`,
          },
        );
      }
      return { ok: true, media: await decoder.decode(bytes, signal) };
    } catch (error) {
      return { ok: false, error: toEmuBotError(error) };
    }
  };
  const outcomes = await Promise.all(attachments.map(load));
  if (signal?.aborted === true) throw new EmuBotError('ABORTED', 'loading attachments was cancelled');
  return new Map(attachments.map((attachment, index) => [attachment.id, outcomes[index] as MediaOutcome]));
}
