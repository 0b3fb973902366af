--[[
  Deletes a session's hash, event log and stream holders, and takes its id off its bucket's due
  index, so that nothing of the session outlives it.

  Returns  true when the id was in the index: ZREM answers 1 to exactly one caller, and that
           caller announces the end (and, for an expiry, runs the handler)
]]
local function removeSession(dueKey, sessionKey, logKey, holdersKey, id)
  redis.call('DEL', sessionKey, logKey, holdersKey)
  return redis.call('ZREM', dueKey, id) == 1
end
