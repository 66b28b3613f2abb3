import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { JobSubmitter } from '../../queue/index.js';
import type { BotIdentity } from './conversation-reader.js';
import type { MessageEditor } from './message-editor.js';
import type { QueueStatus } from './queue-status.js';
import type { RequestPipeline } from './request-pipeline.js';
import type { SlackStore } from './slack-store.js';

/** Where this process shows a job it enqueued while it waits and runs. */
export interface TrackedJob {
  readonly channel: string;
  readonly statusTs: string;
  readonly answerPrefix: string;
}

/** What the event, command and action handlers share once the adapter has started. */
export interface SlackContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly client: webApi.WebClient;
  readonly bot: BotIdentity;
  readonly store: SlackStore;
  readonly editor: MessageEditor;
  readonly pipeline: RequestPipeline;
  readonly queue: JobSubmitter;
  /** `/emu queue`: places in line, queue depth and workers online. */
  readonly status: QueueStatus;
  readonly tracked: Map<string, TrackedJob>;
  /** Aborted when the adapter closes: work in progress stops. */
  readonly signal: AbortSignal;
}

/** The allow-lists: empty lists serve every workspace and channel. */
export function isAllowed(config: Config, teamId: string | undefined, channel: string): boolean {
  const { allowedWorkspaces, allowedChannels } = config.slack;
  const workspaceOk =
    allowedWorkspaces.length === 0 || (teamId !== undefined && allowedWorkspaces.includes(teamId));
  const channelOk = allowedChannels.length === 0 || allowedChannels.includes(channel);
  return workspaceOk && channelOk;
}
