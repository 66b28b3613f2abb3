import { randomInt } from 'node:crypto';
import type { Attachment, Channel } from '../../chat/index.js';
import { cancelRow } from './components.js';
import { type DrawingRecord, DrawingStore } from './drawings.js';
import type { JobViews } from './job-views.js';
import type { DiscordReference } from './reference.js';
import type { Requester } from './requester.js';
import { queuedText } from './status-text.js';

export interface DrawingAsk {
  readonly userId: string;
  readonly userName: string;
  readonly serverId: string | null;
  readonly channel: Channel;
  readonly reference: DiscordReference;
  readonly prompt: string;
  readonly images: readonly Attachment[];
  readonly count: number;
  readonly seed?: number;
  readonly steps?: number;
  readonly guidanceScale?: number;
}

/** Random seeds stay below 2^31 so that `seed + count` stays a valid 32-bit seed. */
export const randomSeed = () => randomInt(0, 2 ** 31 - 8);

/**
 * Starts a drawing: its record (what the buttons redo) saved first, then `count` image jobs
 * with consecutive seeds, then the waiting message with the place in line and a cancel button.
 */
export async function startDrawing(
  parts: { requester: Requester; drawings: DrawingStore; views: JobViews },
  ask: DrawingAsk,
): Promise<readonly string[]> {
  const id = DrawingStore.newId();
  const seed = ask.seed ?? randomSeed();
  const record: DrawingRecord = {
    userId: ask.userId,
    prompt: ask.prompt,
    imageUrls: ask.images.map((image) => image.url),
    count: ask.count,
    seed,
    ...(ask.steps === undefined ? {} : { steps: ask.steps }),
    ...(ask.guidanceScale === undefined ? {} : { guidanceScale: ask.guidanceScale }),
    jobIds: [],
  };
  await parts.drawings.save(id, record);
  const { jobs, problems, steps } = await parts.requester.submit({
    conversation: {
      platform: 'discord',
      ...(ask.serverId === null ? {} : { serverId: ask.serverId }),
      channel: ask.channel,
      messages: [
        {
          id: 'request',
          author: { id: ask.userId, name: ask.userName, role: 'person' },
          text: ask.prompt,
          attachments: ask.images,
          sentAt: Date.now(),
        },
      ],
    },
    intent: 'imagine',
    userId: ask.userId,
    reference: ask.reference,
    drawing: {
      id,
      count: ask.count,
      seed,
      ...(ask.steps === undefined ? {} : { steps: ask.steps }),
      ...(ask.guidanceScale === undefined ? {} : { guidanceScale: ask.guidanceScale }),
    },
  });
  await parts.drawings.save(id, { ...record, jobIds: jobs.map((job) => job.jobId) });
  const [first] = jobs;
  for (const job of jobs) {
    const index = jobs.indexOf(job);
    const drawing = { id, index, count: ask.count, ...(steps === undefined ? {} : { steps }) };
    const reference = { ...ask.reference, drawing };
    const waiting =
      job === first
        ? { content: queuedText(job.position, job.estimatedWaitMs), components: cancelRow({ drawingId: id }) }
        : undefined;
    parts.views.track(job.jobId, reference, waiting);
  }
  return problems;
}

/** Attachments from URLs kept in a drawing's record, for drawing it again. */
export function recordImages(urls: readonly string[]): Attachment[] {
  return urls.map((url, index) => ({
    id: `image-${index}`,
    name: `image-${index + 1}`,
    url,
    declaredKind: 'image',
  }));
}
