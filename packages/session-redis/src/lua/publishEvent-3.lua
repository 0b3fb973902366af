--[[
  Publishes an event of one of a session's streams: with ARGV[4], appends it to the session's
  log first (trimmed to about ARGV[5] entries), then delivers it to the member holding the
  stream, if any. A holder that does not listen right now keeps its hold: its subscriber may be
  reconnecting, and a dead one's hold goes with the session or the next hold of the stream.
  Nothing is written for a session that is gone.

  KEYS[1]  the session hash
  KEYS[2]  the session's event log
  KEYS[3]  the session's stream holders

  ARGV[1]  session id
  ARGV[2]  stream id
  ARGV[3]  the message as JSON
  ARGV[4]  "1" to append the event to the log, else "0"
  ARGV[5]  maxEventsPerSession
  ARGV[6]  "PUBLISH", or "SPUBLISH" in a Cluster: PUBLISH there counts the receivers on this
           node only, SPUBLISH on a channel of this slot counts them all
  ARGV[7]  the start of a member's channel (a channel, not a key); the holder's id is appended

  Returns  the event's position (its log entry id), "" when not stored, nil when the session
           is gone
]]
local expiresAt = redis.call('HGET', KEYS[1], 'e')
if not expiresAt then
  return false
end
local position = ''
if ARGV[4] == '1' then
  position = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 's', ARGV[2], 'm', ARGV[3])
  -- The log lives exactly as long as its session.
  redis.call('PEXPIREAT', KEYS[2], expiresAt)
end
local holder = redis.call('HGET', KEYS[3], ARGV[2])
if holder then
  -- One field a line: kind, position, stream id, session id, then the JSON, which has no raw
  -- line break.
  local frame = 'e\n' .. position .. '\n' .. ARGV[2] .. '\n' .. ARGV[1] .. '\n' .. ARGV[3]
  redis.call(ARGV[6], ARGV[7] .. holder, frame)
end
return position
