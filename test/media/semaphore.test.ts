import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/media/index.js';

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, and the rest in arrival order', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (id: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(id);
      running -= 1;
    };
    await Promise.all([1, 2, 3, 4, 5].map((id) => semaphore.run(task(id))));
    expect(most).toBe(2);
    expect(order.slice(2)).toEqual([3, 4, 5]);
    expect(semaphore.active).toBe(0);
  });

  it('frees its slot when a task fails', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await semaphore.run(async () => 7)).toBe(7);
  });
});
