--[[
  Removes a batch of sessions of one bucket, with their event logs and stream holds, and
  announces each, so every instance hears "ended".

  KEYS[1]     the bucket's due index
  KEYS[2..n]  for each id in ARGV[3..], in the same order, three keys: its session hash, its
              event log and its stream holders

  ARGV[1]     the store's pub/sub channel (a channel, not a key)
  ARGV[2]     the prefix of the "destroyed" message; the id is appended
  ARGV[3..]   the ids to remove

  Returns  the ids that were in the index
]]
--- @include "includes/removeSession"

local removed = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local session = 3 * (i - 3) + 2
  if removeSession(KEYS[1], KEYS[session], KEYS[session + 1], KEYS[session + 2], id) then
    removed[#removed + 1] = id
    redis.call('PUBLISH', ARGV[1], ARGV[2] .. id)
  end
end
return removed
