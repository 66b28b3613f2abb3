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
  /** The waiting message this view posted itself (a mention answered in a new thread). */
  messageId: string | undefined;
}

/** Jobs finished before they were tracked are remembered, up to this many, so no view outlives them. */
const rememberedFinishes = 10_000;

/**
 * The waiting messages of the jobs this process enqueued: updates (place in line, steps, the
 * answer so far) become rate-limited edits, sent behind acknowledgements, the first one interval
 * after the job was queued (a job answered sooner needs none). A job whose reference has no
 * message yet (a mention answered in a new thread) gets its waiting message from its first edit. Best effort and in memory only; the final answer travels with the job and is posted by
 * whichever process receives it.
 */
export class JobViews {
  readonly #views = new Map<string, View>();
  readonly #finished = new Set<string>();
  readonly #replies: DiscordReplies;
  readonly #intervalMs: number;
  /** Progress steps an image job spends regressing its visual embeddings before denoising. */
  #regressionSteps: number;

  readonly #remember: ((jobId: string, messageId: string) => Promise<void>) | undefined;

  /** `remember` keeps the waiting messages views post, for whichever process delivers the answer. */
  constructor(
    replies: DiscordReplies,
    intervalMs: number,
    options: {
      regressionSteps?: number;
      remember?: (jobId: string, messageId: string) => Promise<void>;
    } = {},
  ) {
    this.#replies = replies;
    this.#intervalMs = intervalMs;
    this.#regressionSteps = options.regressionSteps ?? 32;
    this.#remember = options.remember;
  }

  /** The drawing model's count of regression steps, once read from its bundle. */
  set regressionSteps(steps: number) {
    this.#regressionSteps = steps;
  }

  /** Follows a job; `first` (its place in line and cancel button) is shown through the same throttle. */
  track(jobId: string, reference: DiscordReference, first?: ReplyPayload): void {
    if (this.#finished.delete(jobId)) return;
    const posts = reference.messageId === undefined && reference.interaction === undefined;
    const view: View = {
      reference,
      components: first?.components,
      messageId: undefined,
      throttle: new EditThrottle<ReplyPayload>(
        this.#intervalMs,
        async (payload) => {
          if (!posts) {
            await this.#replies.edit(reference, payload, 'progress');
            return;
          }
          if (view.messageId !== undefined) {
            await this.#replies.edit({ ...reference, messageId: view.messageId }, payload, 'progress');
            return;
          }
          view.messageId = await this.#replies.edit(reference, payload, 'progress');
          if (view.messageId !== undefined)
            await this.#remember?.(jobId, view.messageId).catch(() => undefined);
        },
        { delayFirst: true },
      ),
    };
    this.#views.set(jobId, view);
    if (first !== undefined) view.throttle.push(first);
  }

  update(update: JobUpdate): void {
    const view = this.#views.get(update.jobId);
    if (view === undefined) return;
    const drawing = view.reference.drawing;
    const label =
      drawing !== undefined && drawing.count > 1 ? ` (image ${drawing.index + 1} of ${drawing.count})` : '';
    const steps =
      drawing?.steps === undefined
        ? undefined
        : { steps: drawing.steps, regressionSteps: this.#regressionSteps };
    const content = `${updateText(update, view.reference.answerPrefix, steps)}${label}`;
    view.throttle.push(
      view.components === undefined ? { content } : { content, components: view.components },
    );
  }

  /**
   * Stops a job's edits before its answer is posted; resolves once an edit in flight has landed,
   * to the waiting message the view posted, if it did.
   */
  async finish(jobId: string): Promise<string | undefined> {
    const view = this.#views.get(jobId);
    this.#views.delete(jobId);
    if (view === undefined) {
      this.#finished.add(jobId);
      if (this.#finished.size > rememberedFinishes)
        this.#finished.delete(this.#finished.values().next().value as string);
      return undefined;
    }
    await view.throttle.stop();
    return view.messageId;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#views.keys()].map((jobId) => this.finish(jobId)));
  }
}
