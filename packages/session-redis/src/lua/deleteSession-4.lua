--[[
  Removes a live session with its event log and stream holds, and announces it, so every
  instance hears "ended". A session already past its deadline expired: it is left for the sweep,
  which claims it and runs the handler.

  KEYS[1]  the session hash
  KEYS[2]  the due index of the session's bucket
  KEYS[3]  the session's event log
  KEYS[4]  the session's stream holders

  ARGV[1]  id
  ARGV[2]  now (ms), the caller's clock
  ARGV[3]  the store's pub/sub channel (a channel, not a key)
  ARGV[4]  the message to publish on it

  Returns  1 removed, 0 missing or expired
]]
--- @include "includes/removeSession"

local expiresAt = redis.call('HGET', KEYS[1], 'e')
if not expiresAt or tonumber(expiresAt) <= tonumber(ARGV[2]) then
  return 0
end
-- Live, so announced whether or not the index still held it.
removeSession(KEYS[2], KEYS[1], KEYS[3], KEYS[4], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
