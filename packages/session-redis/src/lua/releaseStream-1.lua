--[[
  Gives up holding one of a session's streams, unless another member has taken it since.

  KEYS[1]  the session's stream holders

  ARGV[1]  stream id
  ARGV[2]  member id

  Returns  1 released, 0 held by another member or by none
]]
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
