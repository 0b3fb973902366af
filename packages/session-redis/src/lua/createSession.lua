--[[
  Inserts a session unless its id is taken, and queues its deadline, in one atomic step.
  An id is taken while its hash exists or its due-index entry waits for a sweep to claim it:
  a session that expired but was not yet claimed still owes its expiration handler a run.

  KEYS[1]     the session hash
  KEYS[2]     the due index of the session's bucket
  KEYS[3..n]  the due indexes to count against ARGV[5] (every bucket, standalone only)

  ARGV[1]  id
  ARGV[2]  createdAt (ms); sessions due at or before it are not live
  ARGV[3]  lastAccessedAt (ms)
  ARGV[4]  expiresAt (ms)
  ARGV[5]  maxSessions, or "" for no limit here
  ARGV[6]  "1" when an owner follows, else "0"
  ARGV[7]  owner
  ARGV[8]  owner digest (hex SHA-256), compared instead of the owner
  ARGV[9]  "1" when metadata follows, else "0"
  ARGV[10] metadata as JSON

  Returns  1 created, 0 the id is taken, -1 maxSessions live sessions exist
]]
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
if ARGV[5] ~= '' then
  local live = 0
  for i = 3, #KEYS do
    live = live + redis.call('ZCOUNT', KEYS[i], '(' .. ARGV[2], '+inf')
  end
  if live >= tonumber(ARGV[5]) then
    return -1
  end
end
local fields = {'c', ARGV[2], 'a', ARGV[3], 'e', ARGV[4]}
if ARGV[6] == '1' then
  fields[#fields + 1] = 'o'
  fields[#fields + 1] = ARGV[7]
  fields[#fields + 1] = 'h'
  fields[#fields + 1] = ARGV[8]
end
if ARGV[9] == '1' then
  fields[#fields + 1] = 'm'
  fields[#fields + 1] = ARGV[10]
end
redis.call('HSET', KEYS[1], unpack(fields))
-- Redis key expiry is the TTL: the key disappears on time even if no instance is running.
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
