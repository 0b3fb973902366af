--[[
  Makes a member the holder of one of a session's streams and, in the same atomic step, reads
  the stream's stored events after a position, oldest first. Nothing is written for a session
  that is gone.

  KEYS[1]  the session hash
  KEYS[2]  the session's event log
  KEYS[3]  the session's stream holders

  ARGV[1]  stream id
  ARGV[2]  member id
  ARGV[3]  "1" when ARGV[4] is a position to replay after, else "0"
  ARGV[4]  the position

  Returns  {position, message JSON, ...} of the stream's events after the position (empty
           without one); nil when the session is gone or the position is not in the log
]]
local expiresAt = redis.call('HGET', KEYS[1], 'e')
if not expiresAt then
  return false
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
-- The holders live exactly as long as their session.
redis.call('PEXPIREAT', KEYS[3], expiresAt)
if ARGV[3] == '0' then
  return {}
end
local after = ARGV[4]
-- A position comes from a client's Last-Event-ID: anything but a complete entry id is unknown,
-- and must never reach XRANGE, which reads "5" as every entry of millisecond 5.
if not string.match(after, '^%d+%-%d+$') then
  return false
end
local found = redis.pcall('XRANGE', KEYS[2], after, after)
if type(found) ~= 'table' or found.err or #found == 0 then
  return false
end
local events = {}
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '(' .. after, '+')) do
  -- Fields as publishEvent wrote them: {'s', stream id, 'm', message}.
  local fields = entry[2]
  if fields[2] == ARGV[1] then
    events[#events + 1] = entry[1]
    events[#events + 1] = fields[4]
  end
end
return events
