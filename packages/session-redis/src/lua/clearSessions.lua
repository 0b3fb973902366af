--[[
  Removes a batch of sessions of one bucket and announces each, so every instance hears "ended".

  KEYS[1]     the bucket's due index
  KEYS[2..n]  the session hashes of the ids in ARGV[3..], in the same order

  ARGV[1]     the store's pub/sub channel (a channel, not a key)
  ARGV[2]     the prefix of the "destroyed" message; the id is appended
  ARGV[3..]   the ids to remove

  Returns  the ids that were in the index
]]
local removed = {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  redis.call('DEL', KEYS[i])
  if redis.call('ZREM', KEYS[1], id) == 1 then
    removed[#removed + 1] = id
    redis.call('PUBLISH', ARGV[1], ARGV[2] .. id)
  end
end
return removed
