--[[
  Marks a live session used now and moves its deadline, and its event log's and stream holds'
  with it, then returns it. A missing, expired or foreign session is left exactly as it was:
  touch never revives and never creates.

  KEYS[1]  the session hash
  KEYS[2]  the due index of the session's bucket
  KEYS[3]  the session's event log
  KEYS[4]  the session's stream holders

  ARGV[1]  id
  ARGV[2]  now (ms), the caller's clock
  ARGV[3]  ttl (ms)
  ARGV[4]  maxLifetime (ms)
  ARGV[5]  "1" to check the owner, else "0"
  ARGV[6]  the caller's owner digest (hex SHA-256)

  Returns  {1, createdAt, expiresAt, owner or false, metadata or false} after the touch;
           {0} missing or expired; {-1} foreign
]]
local now = tonumber(ARGV[2])
-- HMGET of the fields it needs, not HGETALL: building a Lua table of the whole hash and a reply
-- from it was most of this script's cost.
local session = redis.call('HMGET', KEYS[1], 'c', 'e', 'h', 'o', 'm')
local createdAt, expiresAt = session[1], session[2]
if not expiresAt or tonumber(expiresAt) <= now then
  return {0}
end
-- Digests, not owners, are compared: how long the comparison takes reveals nothing useful.
if ARGV[5] == '1' and session[3] ~= ARGV[6] then
  return {-1}
end
-- Formatted by hand: Lua would print a 13-digit number in exponent notation past %.14g.
local newExpiresAt = string.format('%.0f',
  math.min(now + tonumber(ARGV[3]), tonumber(createdAt) + tonumber(ARGV[4])))
redis.call('HSET', KEYS[1], 'a', ARGV[2], 'e', newExpiresAt)
redis.call('PEXPIREAT', KEYS[1], newExpiresAt)
-- A no-op for a log or holders the session does not have yet.
redis.call('PEXPIREAT', KEYS[3], newExpiresAt)
redis.call('PEXPIREAT', KEYS[4], newExpiresAt)
redis.call('ZADD', KEYS[2], newExpiresAt, ARGV[1])
return {1, createdAt, newExpiresAt, session[4], session[5]}
