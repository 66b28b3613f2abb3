import type { JobUpdate } from '../../queue/index.js';
import { EditThrottle } from './edit-throttle.js';
import type { DiscordReference } from './reference.js';
import type { DiscordReplies, ReplyPayload } from './replies.js';
import { updateText } from './status-text.js';

interface View {
  readonly reference: DiscordReference;
  /** The waiting message's buttons, sent with every edit so that a newer edit never drops them. */
  readonly components: readonly unknown[] | undefined;
  readonly throttle: EditThrottle<ReplyPayload>;
}

/**
 * The waiting messages of the jobs this process enqueued: updates (place in line, steps, the
 * answer so far) become rate-limited edits. Best effort and in memory only; the final answer
 * travels with the job and is posted by whichever process receives it.
 */
export class JobViews {
  readonly #views = new Map<string, View>();
  readonly #replies: DiscordReplies;
  readonly #intervalMs: number;

  constructor(replies: DiscordReplies, intervalMs: number) {
    this.#replies = replies;
    this.#intervalMs = intervalMs;
  }

  /** Follows a job; `first` (its place in line and cancel button) is shown through the same throttle. */
  track(jobId: string, reference: DiscordReference, first?: ReplyPayload): void {
    const throttle = new EditThrottle<ReplyPayload>(this.#intervalMs, (payload) =>
      this.#replies.edit(reference, payload),
    );
    this.#views.set(jobId, { reference, throttle, components: first?.components });
    if (first !== undefined) throttle.push(first);
  }

  update(update: JobUpdate): void {
    const view = this.#views.get(update.jobId);
    if (view === undefined) return;
    const drawing = view.reference.drawing;
    const label =
      drawing !== undefined && drawing.count > 1 ? ` (image ${drawing.index + 1} of ${drawing.count})` : '';
    const content = `${updateText(update, view.reference.answerPrefix)}${label}`;
    view.throttle.push(
      view.components === undefined ? { content } : { content, components: view.components },
    );
  }

  /** Stops a job's edits before its answer is posted; resolves once an edit in flight has landed. */
  async finish(jobId: string): Promise<void> {
    const view = this.#views.get(jobId);
    this.#views.delete(jobId);
    await view?.throttle.stop();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#views.keys()].map((jobId) => this.finish(jobId)));
  }
}
