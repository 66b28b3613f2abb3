import { BatchedScript, LuaScript } from '../lua-script.js';

/**
 * Admits a job: refuses it when no live worker holds its model or the user or server is at its
 * queued limit, otherwise records it as waiting, reserves its fairness rank and stores its
 * images with a TTL, all in one step. Also reads what the person is told at once: the place
 * the job will take in BullMQ's line (jobs handed back, then every job of a lower or equal
 * priority), the live workers and the recent time per job.
 *
 * KEYS: workers of the model, user waiting, server waiting (unused when ARGV[5] is 0), user
 * rank, BullMQ wait, BullMQ prioritized, run times, then one key per image. ARGV: job id, now,
 * entry expiry, user limit, server limit (0 for none), TTL in ms, priority base of the class,
 * highest rank, run-times field, then one value per image.
 *
 * The rank is `max(jobs the user has waiting + 1, the rank of the user's latest waiting job)`:
 * the k-th waiting job of every user shares rank k, so ranks interleave users round by round,
 * while one user's own jobs never overtake each other. The BullMQ priority is base + rank.
 * Returns {'ok', priority, position, workers, time per job or false} or {reason, count}.
 * Batched: the requests a bot enqueues in one turn of the event loop are admitted in one call,
 * in the order they were made.
 */
export const admitScript = new BatchedScript(
  'admit',
  `
local rcall = redis.call
local jobId = ARGV[1]
local now = tonumber(ARGV[2])
local expiresAt = tonumber(ARGV[3])
local userLimit = tonumber(ARGV[4])
local serverLimit = tonumber(ARGV[5])
local ttl = ARGV[6]
rcall('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local workers = rcall('ZCARD', KEYS[1])
if workers == 0 then return {'no-worker', 0} end
rcall('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local userCount = rcall('ZCARD', KEYS[2])
if userCount >= userLimit then return {'user-limit', userCount} end
if serverLimit > 0 then
  rcall('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local serverCount = rcall('ZCARD', KEYS[3])
  if serverCount >= serverLimit then return {'server-limit', serverCount} end
  rcall('ZADD', KEYS[3], expiresAt, jobId)
  rcall('PEXPIRE', KEYS[3], ttl)
end
local rank = userCount + 1
if userCount > 0 then
  local last = tonumber(rcall('GET', KEYS[4]) or '0')
  if last > rank then rank = last end
end
rcall('SET', KEYS[4], rank, 'PX', ttl)
rcall('ZADD', KEYS[2], expiresAt, jobId)
rcall('PEXPIRE', KEYS[2], ttl)
for i = 8, #KEYS do rcall('SET', KEYS[i], ARGV[i + 2], 'PX', ttl) end
local priority = tonumber(ARGV[7]) + math.min(rank, tonumber(ARGV[8]))
local ahead = rcall('ZCOUNT', KEYS[6], '-inf', '(' .. ((priority + 1) * 0x100000000))
local position = rcall('LLEN', KEYS[5]) + ahead + 1
return {'ok', priority, position, workers, rcall('HGET', KEYS[7], ARGV[9])}
`,
);

/**
 * Moves a job from waiting to running when a worker takes it, unless the user or server is at
 * its running limit, or the job was cancelled or already answered (a re-run after a crash).
 * A job already counted as running (the same job re-run, its lease not expired) passes the limit
 * check; expired leases count for nothing. A started job gets its stored images back in the same
 * step, so that it needs no further read.
 *
 * KEYS: user waiting, user running, server waiting, server running, cancelled, published, then
 * one key per image. ARGV: job id, now, lease expiry, user running limit, server running limit
 * (0 for none), TTL.
 * Returns {'started', image bytes ('' for an image that expired)...}, or {'published'},
 * {'cancelled'}, {'user-busy'} or {'server-busy'}. Batched and binary: the jobs a worker takes
 * in one turn of the event loop start in one call, in order (so running limits count each other),
 * and replies come back as Buffers.
 */
export const startScript = new BatchedScript(
  'start',
  `
local rcall = redis.call
local jobId = ARGV[1]
local now = tonumber(ARGV[2])
local userLimit = tonumber(ARGV[4])
local serverLimit = tonumber(ARGV[5])
if rcall('EXISTS', KEYS[5], KEYS[6]) > 0 then
  if rcall('EXISTS', KEYS[6]) == 1 then return {'published'} end
  return {'cancelled'}
end
-- A job's own live lease (a re-run) and expired leases (a crashed worker's) are looked at only
-- when they could decide the verdict.
local function atLimit(key, limit)
  if rcall('ZCARD', key) < limit then return false end
  local own = rcall('ZSCORE', key, jobId)
  if own and tonumber(own) > now then return false end
  rcall('ZREMRANGEBYSCORE', key, '-inf', now)
  return rcall('ZCARD', key) >= limit
end
if atLimit(KEYS[2], userLimit) then return {'user-busy'} end
if serverLimit > 0 then
  if atLimit(KEYS[4], serverLimit) then return {'server-busy'} end
  rcall('ZREM', KEYS[3], jobId)
  rcall('ZADD', KEYS[4], ARGV[3], jobId)
  rcall('PEXPIRE', KEYS[4], ARGV[6])
end
rcall('ZREM', KEYS[1], jobId)
rcall('ZADD', KEYS[2], ARGV[3], jobId)
rcall('PEXPIRE', KEYS[2], ARGV[6])
local started = {'started'}
for i = 7, #KEYS do started[i - 5] = rcall('GET', KEYS[i]) or '' end
return started
`,
  { binary: true },
);

/**
 * Counts a job as waiting again when its run ends without an answer (handed back at shutdown,
 * or failed and about to be retried).
 *
 * KEYS: user waiting, user running, server waiting, server running.
 * ARGV: job id, entry expiry, has server (1 or 0).
 */
export const releaseScript = new LuaScript(
  'release',
  `
local rcall = redis.call
rcall('ZREM', KEYS[2], ARGV[1])
rcall('ZADD', KEYS[1], ARGV[2], ARGV[1])
if ARGV[3] == '1' then
  rcall('ZREM', KEYS[4], ARGV[1])
  rcall('ZADD', KEYS[3], ARGV[2], ARGV[1])
end
return 1
`,
);

/**
 * Takes back an admission whose job never reached BullMQ (the add failed): forgets the job's
 * waiting entries and deletes its stored images. The user's rank is left as it is, a harmless
 * gap (see docs/queue.md).
 *
 * KEYS: user waiting, server waiting, then the job's image keys. ARGV: job id.
 */
export const withdrawScript = new LuaScript(
  'withdraw',
  `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
`,
);
