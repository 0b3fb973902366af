--[[
  Marks a live session used now and moves its deadline, then returns it. A missing, expired or
  foreign session is left exactly as it was: touch never revives and never creates.

  KEYS[1]  the session hash
  KEYS[2]  the due index of the session's bucket

  ARGV[1]  id
  ARGV[2]  now (ms), the caller's clock
  ARGV[3]  ttl (ms)
  ARGV[4]  maxLifetime (ms)
  ARGV[5]  "1" to check the owner, else "0"
  ARGV[6]  the caller's owner digest (hex SHA-256)

  Returns  {1, field, value, ...} the updated hash; {0} missing or expired; {-1} foreign
]]
local now = tonumber(ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then
  return {0}
end
local session = {}
for i = 1, #fields, 2 do
  session[fields[i]] = fields[i + 1]
end
if tonumber(session.e) <= now then
  return {0}
end
-- Digests, not owners, are compared: how long the comparison takes reveals nothing useful.
if ARGV[5] == '1' and session.h ~= ARGV[6] then
  return {-1}
end
-- Formatted by hand: Lua would print a 13-digit number in exponent notation past %.14g.
local expiresAt = string.format('%.0f',
  math.min(now + tonumber(ARGV[3]), tonumber(session.c) + tonumber(ARGV[4])))
redis.call('HSET', KEYS[1], 'a', ARGV[2], 'e', expiresAt)
redis.call('PEXPIREAT', KEYS[1], expiresAt)
redis.call('ZADD', KEYS[2], expiresAt, ARGV[1])
local reply = {1}
for i = 1, #fields, 2 do
  local field = fields[i]
  reply[#reply + 1] = field
  if field == 'a' then
    reply[#reply + 1] = ARGV[2]
  elseif field == 'e' then
    reply[#reply + 1] = expiresAt
  else
    reply[#reply + 1] = fields[i + 1]
  end
end
return reply
