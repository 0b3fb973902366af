--[[
  Claims due sessions of one bucket. For each id: EXISTS makes Redis expire the key now if it is
  due (Redis expires idle keys lazily), and a key whose deadline passed by the caller's clock is
  deleted. Then ZREM decides the claim: it returns 1 to exactly one caller across the fleet, and
  that caller runs the expiration handler. A key that was refreshed meanwhile gets its score
  fixed instead, never dropped.

  KEYS[1]     the bucket's due index
  KEYS[2..n]  the session hashes of the ids in ARGV[4..], in the same order

  ARGV[1]     now (ms), the caller's clock
  ARGV[2]     the store's pub/sub channel (a channel, not a key)
  ARGV[3]     the prefix of the "expired" message; the id is appended
  ARGV[4..]   the ids to claim

  Returns  the ids this call claimed
]]
local now = tonumber(ARGV[1])
local claimed = {}
for i = 2, #KEYS do
  local id = ARGV[i + 2]
  local expiresAt = nil
  if redis.call('EXISTS', KEYS[i]) == 1 then
    expiresAt = tonumber(redis.call('HGET', KEYS[i], 'e'))
  end
  if expiresAt and expiresAt > now then
    redis.call('ZADD', KEYS[1], 'XX', expiresAt, id)
  else
    if expiresAt then
      redis.call('DEL', KEYS[i])
    end
    if redis.call('ZREM', KEYS[1], id) == 1 then
      claimed[#claimed + 1] = id
      redis.call('PUBLISH', ARGV[2], ARGV[3] .. id)
    end
  end
end
return claimed
