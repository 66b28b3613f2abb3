import { describe, expect, it } from 'vitest';
import { JobViews } from '../../../src/bots/discord/job-views.js';
import type { DiscordReplies, ReplyPayload } from '../../../src/bots/discord/replies.js';
import { updateText } from '../../../src/bots/discord/status-text.js';

/** Records edits; each edit stays in flight until `land()`. */
function recordingReplies() {
  const edits: ReplyPayload[] = [];
  const pending: Array<() => void> = [];
  const replies = {
    edit: (_reference: unknown, payload: ReplyPayload) => {
      edits.push(payload);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
  } as unknown as DiscordReplies;
  return { replies, edits, land: () => pending.shift()?.() };
}

const reference = { channelId: '1', userId: '2', messageId: '3' };
const running = (text: string) => ({
  jobId: 'job',
  state: 'running' as const,
  progress: { tokens: 1, text },
});

describe('JobViews', () => {
  it("posts a waiting message when the job's reference has none, then edits it and hands it over", async () => {
    const posted: Array<{ messageId: string | undefined; content: string }> = [];
    const replies = {
      edit: async (target: { messageId?: string }, payload: ReplyPayload) => {
        posted.push({ messageId: target.messageId, content: payload.content });
        return target.messageId ?? 'waiting-1';
      },
    } as unknown as DiscordReplies;
    const views = new JobViews(replies, 0);
    views.track('job', { channelId: '1', userId: '2' }, { content: '⏳ Next in line…' });
    await new Promise((resolve) => setImmediate(resolve));
    views.update(running('Hello'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(posted).toEqual([
      { messageId: undefined, content: '⏳ Next in line…' },
      { messageId: 'waiting-1', content: 'Hello ▌' },
    ]);
    expect(await views.finish('job')).toBe('waiting-1');
  });

  it('never shows a job that finished before it was tracked', async () => {
    const { replies, edits } = recordingReplies();
    const views = new JobViews(replies, 0);
    expect(await views.finish('job')).toBeUndefined();
    views.track('job', reference, { content: '⏳ Next in line…' });
    views.update(running('late'));
    expect(edits).toEqual([]);
  });

  it('streams the answer as it grows, one edit in flight, the newest text winning', async () => {
    const { replies, edits, land } = recordingReplies();
    const views = new JobViews(replies, 0);
    views.track('job', reference, { content: '⏳ Next in line…', components: ['cancel'] });
    views.update(running('Hello'));
    views.update(running('Hello there'));
    expect(edits.map((edit) => edit.content)).toEqual(['⏳ Next in line…']);
    land();
    await new Promise((resolve) => setImmediate(resolve));
    expect(edits.map((edit) => edit.content)).toEqual(['⏳ Next in line…', 'Hello there ▌']);
    // Every edit keeps the cancel button, so a newer one never drops it.
    expect(edits[1]?.components).toEqual(['cancel']);
    const finished = views.finish('job');
    views.update(running('Hello there, friend'));
    land();
    await finished;
    expect(edits).toHaveLength(2);
  });

  it('says where a job is: in line, drawing, or the answer cut to one message', () => {
    expect(updateText({ jobId: 'j', state: 'queued', position: 3, estimatedWaitMs: 40_000 })).toBe(
      '⏳ In line: position 3 (about 40 s)…',
    );
    const step = {
      jobId: 'j',
      state: 'running' as const,
      progress: { tokens: 0, text: '', step: { step: 23, totalSteps: 50 } },
    };
    expect(updateText(step)).toBe('🎨 Drawing: step 23/50');
    // The engine counts 32 regression steps, then PNDM's 51 UNet calls for 50 steps.
    const drawing = { steps: 50, regressionSteps: 32 };
    const at = (done: number) => ({
      ...step,
      progress: { ...step.progress, step: { step: done, totalSteps: 83 } },
    });
    expect(updateText(at(20), '', drawing)).toBe('🎨 Drawing: reading the prompt…');
    expect(updateText(at(32 + 23), '', drawing)).toBe('🎨 Drawing: step 23/50');
    expect(updateText(at(83), '', drawing)).toBe('🎨 Drawing: step 50/50');
    const long = updateText(running('x'.repeat(5000)), 'The image depicts a photo of');
    expect(long.length).toBe(2000);
    expect(long.startsWith('The image depicts a photo of x')).toBe(true);
  });
});
