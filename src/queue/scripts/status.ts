import { LuaScript } from '../lua-script.js';

/**
 * Places in line of waiting jobs, read in one consistent snapshot of BullMQ's `wait` list (taken
 * first: jobs handed back after a crash) and `prioritized` set.
 *
 * KEYS: wait, prioritized. ARGV: job ids. Returns one position per id, 1 being next; 0 when the
 * job is not waiting (running, deferred or gone).
 */
export const positionsScript = new LuaScript(
  'positions',
  `
local rcall = redis.call
local waiting = rcall('LLEN', KEYS[1])
local positions = {}
for i, jobId in ipairs(ARGV) do
  local rank = rcall('ZRANK', KEYS[2], jobId)
  if rank then
    positions[i] = waiting + rank + 1
  else
    local index = rcall('LPOS', KEYS[1], jobId)
    if index then positions[i] = waiting - index else positions[i] = 0 end
  end
end
return positions
`,
);

/**
 * Records a job's cancellation and tells the workers in one step, so a worker either sees the
 * message while running the job or the record when it starts it.
 *
 * KEYS: cancelled. ARGV: job id, TTL in ms, channel.
 */
export const cancelScript = new LuaScript(
  'cancel',
  `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return 1
`,
);
