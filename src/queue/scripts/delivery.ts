import { BatchedScript, LuaScript } from '../lua-script.js';

/**
 * Publishes a job's one outcome: sets the job's `published` record and appends the outcome to
 * the results stream in the same step, so a job that runs twice (a worker crashed after
 * answering) adds one entry only. Also forgets the job's waiting and running entries and its
 * images, trims stream entries older than the result TTL, and folds the job's share of its
 * batch's run time into the model's moving average (weight 0.2 for the newest), used for
 * estimated waits.
 *
 * KEYS: published, results stream, user waiting, user running, server waiting, server running,
 * run times, then the job's image keys. ARGV: job id, TTL in ms, oldest stream id to keep,
 * run-times field, run time in ms ('' when the job did not run), then the entry's field/value
 * pairs. Returns 1 when published, 0 when it already was. Batched: the outcomes of a batch that
 * finished together are published in one call.
 */
export const publishScript = new BatchedScript(
  'publish',
  `
local rcall = redis.call
if not rcall('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then return 0 end
rcall('XADD', KEYS[2], 'MINID', '~', ARGV[3], '*', unpack(ARGV, 6))
-- A job that ran left its waiting entries when it started.
if ARGV[5] == '' then
  rcall('ZREM', KEYS[3], ARGV[1])
  rcall('ZREM', KEYS[5], ARGV[1])
end
rcall('ZREM', KEYS[4], ARGV[1])
rcall('ZREM', KEYS[6], ARGV[1])
for i = 8, #KEYS do rcall('DEL', KEYS[i]) end
if ARGV[5] ~= '' then
  local sample = tonumber(ARGV[5])
  local previous = tonumber(rcall('HGET', KEYS[7], ARGV[4]))
  if previous then sample = previous * 0.8 + sample * 0.2 end
  rcall('HSET', KEYS[7], ARGV[4], sample)
end
return 1
`,
);

/**
 * Takes the lease on delivering a job's reply: the reply's idempotency record holds the bot
 * consumer's name while it posts, then `done`.
 *
 * KEYS: delivered. ARGV: consumer name, lease in ms.
 * Returns 'claimed', 'done' (already delivered) or 'busy' (another consumer holds the lease).
 */
export const claimDeliveryScript = new LuaScript(
  'claim-delivery',
  `
local holder = redis.call('GET', KEYS[1])
if holder == 'done' then return 'done' end
if holder and holder ~= ARGV[1] then return 'busy' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'
`,
);

/**
 * Settles a stream entry: when delivered, marks the reply `done` (kept for the result TTL, so a
 * duplicate entry is recognised) and acknowledges and deletes the entry in the same step; when
 * the delivery failed, gives the lease back so that another try can claim it.
 *
 * KEYS: delivered, results stream. ARGV: 'done' or 'release', consumer name, group, entry id,
 * TTL in ms.
 */
export const settleDeliveryScript = new LuaScript(
  'settle-delivery',
  `
local rcall = redis.call
if ARGV[1] == 'done' then
  rcall('SET', KEYS[1], 'done', 'PX', ARGV[5])
  rcall('XACK', KEYS[2], ARGV[3], ARGV[4])
  rcall('XDEL', KEYS[2], ARGV[4])
elseif rcall('GET', KEYS[1]) == ARGV[2] then
  rcall('DEL', KEYS[1])
end
return 1
`,
);
