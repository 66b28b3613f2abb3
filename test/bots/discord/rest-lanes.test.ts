import { describe, expect, it } from 'vitest';
import { RestLanes } from '../../../src/bots/discord/rest-lanes.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A call that stays in flight until `land()`. */
function gated(log: string[], name: string) {
  let land = () => {};
  const call = () =>
    new Promise<string>((resolve) => {
      log.push(name);
      land = () => resolve(name);
    });
  return { call, land: () => land() };
}

describe('RestLanes', () => {
  it('holds other requests while an acknowledgement is in flight, then sends answers before progress', async () => {
    const rest = { globalRemaining: 50, globalReset: -1 };
    const lanes = new RestLanes(rest);
    const log: string[] = [];
    const ack = gated(log, 'ack');
    const acked = lanes.urgent(ack.call);
    const progress = lanes.later('progress', async () => log.push('progress'));
    const answer = lanes.later('final', async () => log.push('answer'));
    await tick();
    expect(log).toEqual(['ack']);
    ack.land();
    await Promise.all([acked, progress, answer]);
    expect(log).toEqual(['ack', 'answer', 'progress']);
  });

  it("keeps the window's reserve for acknowledgements, and sends the rest when a new window opens", async () => {
    let now = 1_000;
    const rest = { globalRemaining: 5, globalReset: 1_010 };
    const lanes = new RestLanes(rest, { reserve: 10, now: () => now });
    const log: string[] = [];
    const progress = lanes.later('progress', async () => log.push('progress'));
    await tick();
    expect(log).toEqual([]);
    // Acknowledgements still go at once.
    await lanes.urgent(async () => log.push('ack'));
    expect(log).toEqual(['ack']);
    now = 1_020;
    await progress;
    expect(log).toEqual(['ack', 'progress']);
    lanes.close();
  });
});
