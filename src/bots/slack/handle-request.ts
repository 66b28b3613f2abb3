import { type Conversation, defaultIntent, type Intent } from '../../chat/index.js';
import { toEmuBotError } from '../../core/index.js';
import { statusBlocks } from './blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';
import type { DrawingSettings } from './request-pipeline.js';
import type { SlackContext } from './slack-context.js';
import { startingText, statusText } from './status-text.js';

export interface SlackRequest {
  readonly teamId: string | undefined;
  readonly channel: string;
  /** The thread the answer goes into (a top-level message starts one). */
  readonly threadTs: string;
  readonly userId: string;
  /** Unset: what the request holds says (a picture alone is described, anything else answered). */
  readonly intent?: Intent;
  readonly what: string;
  readonly drawing?: DrawingSettings;
  /** Read once the status message is up: reading a thread takes a Web API call. */
  readonly conversation: () => Promise<Conversation>;
}

/**
 * Answers a request in its thread: posts a status message at once, then sends the request
 * through the pipeline and shows its place in line with a cancel button; a refusal or failure
 * replaces the status with its polite message. Never throws: the event was acknowledged already.
 */
export async function handleRequest(context: SlackContext, request: SlackRequest): Promise<void> {
  const { client, editor, logger } = context;
  let statusTs: string | undefined;
  try {
    const posted = await client.chat.postMessage({
      channel: request.channel,
      thread_ts: request.threadTs,
      text: startingText,
    });
    statusTs = posted.ts as string;
    const conversation = await request.conversation();
    const intent = request.intent ?? defaultIntent(conversation);
    const { enqueued, reference } = await context.pipeline.submit(
      { ...request, intent, conversation, statusTs },
      context.queue,
      context.signal,
    );
    context.tracked.set(enqueued.jobId, {
      channel: request.channel,
      statusTs,
      answerPrefix: reference.answerPrefix,
    });
    const text = statusText(
      {
        jobId: enqueued.jobId,
        state: 'queued',
        position: enqueued.position,
        estimatedWaitMs: enqueued.estimatedWaitMs,
      },
      '',
    );
    editor.progress({
      channel: request.channel,
      ts: statusTs,
      text,
      blocks: statusBlocks(text, enqueued.jobId),
    });
  } catch (error) {
    const failure = toEmuBotError(error);
    logger.info({ code: failure.code, err: failure, channel: request.channel }, 'Slack request not queued');
    if (statusTs === undefined) return;
    const text = `:warning: ${escapeMrkdwn(failure.userMessage)}`;
    await editor
      .final({ channel: request.channel, ts: statusTs, text, blocks: [] })
      .catch((editError: unknown) => logger.warn({ err: editError }, 'could not show a refusal in Slack'));
  }
}
