import { describe, expect, it } from 'vitest';
import { EditLimiter } from '../../../src/bots/slack/edit-limiter.js';

describe('EditLimiter', () => {
  it('serves final edits first and in order, and progress edits only while half the burst is left', async () => {
    const limiter = new EditLimiter({ perMinute: 1200, burst: 2 });
    const order: string[] = [];
    const take = (kind: 'final' | 'progress', name: string) =>
      limiter.acquire(kind).then(() => {
        order.push(name);
      });
    const all = [
      take('progress', 'progress 1'),
      take('progress', 'progress 2'),
      take('final', 'final 1'),
      take('final', 'final 2'),
      take('final', 'final 3'),
    ];
    await Promise.all(all);
    // The burst of 2: one progress edit (leaving the reserve), then finals before the waiting progress edit.
    expect(order).toEqual(['progress 1', 'final 1', 'final 2', 'final 3', 'progress 2']);
    limiter.close();
  });

  it('holds every edit during a pause and refuses edits once closed', async () => {
    const limiter = new EditLimiter({ perMinute: 600, burst: 5 });
    limiter.pause(200);
    let served = false;
    const waiting = limiter.acquire('final').then(() => {
      served = true;
    });
    await Promise.resolve();
    expect(served).toBe(false);
    await waiting;
    expect(served).toBe(true);
    const left = limiter.acquire('progress');
    limiter.close();
    await expect(left).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(limiter.acquire('final')).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
