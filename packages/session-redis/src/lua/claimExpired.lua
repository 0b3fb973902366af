--[[
  Claims due sessions of one bucket. For each id: EXISTS makes Redis expire the key now if it is
  due (Redis expires idle keys lazily), and a key whose deadline passed by the caller's clock is
  deleted, with the session's event log and stream holds. Then ZREM decides the claim: it returns
  1 to exactly one caller across the fleet, and that caller runs the expiration handler. A key
  that was refreshed meanwhile gets its score fixed instead, never dropped.

  KEYS[1]     the bucket's due index
  KEYS[2..n]  for each id in ARGV[4..], in the same order, three keys: its session hash, its
              event log and its stream holders

  ARGV[1]     now (ms), the caller's clock
  ARGV[2]     the store's pub/sub channel (a channel, not a key)
  ARGV[3]     the prefix of the "expired" message; the id is appended
  ARGV[4..]   the ids to claim

  Returns  the ids this call claimed
]]
--- @include "includes/removeSession"

local now = tonumber(ARGV[1])
local claimed = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local session = 3 * (i - 4) + 2
  local expiresAt = nil
  if redis.call('EXISTS', KEYS[session]) == 1 then
    expiresAt = tonumber(redis.call('HGET', KEYS[session], 'e'))
  end
  if expiresAt and expiresAt > now then
    redis.call('ZADD', KEYS[1], 'XX', expiresAt, id)
  else
    -- The session is over, whoever wins the claim: its log and holds go with it.
    if removeSession(KEYS[1], KEYS[session], KEYS[session + 1], KEYS[session + 2], id) then
      claimed[#claimed + 1] = id
      redis.call('PUBLISH', ARGV[2], ARGV[3] .. id)
    end
  end
end
return claimed
