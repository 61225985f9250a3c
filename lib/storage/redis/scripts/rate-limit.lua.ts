/**
 * The rate-limit store's scripts. One decision (or a look at a key's state) is one script run on one
 * key, `<prefix>rl:{<key>}`, a hash:
 *
 * - `a`: the algorithm whose state the other fields hold;
 * - `e`: epoch ms of the app's clock from which the state means nothing (a state past it is absent);
 * - `b`: epoch ms until which a rule block runs (absent: none);
 * - the algorithm's fields (see each algorithm's script), absent when nothing was counted.
 *
 * Time is the app's clock, passed in (`nowMs`), never the server's: Redis's own expiry (`PEXPIRE`)
 * is set relative to it, `e − now` plus a margin, and only collects garbage; decisions compare `e`.
 */
import { LUA_BUCKET_ALGORITHMS } from './bucket-algorithms.lua.js';
import { LUA_HELPERS } from './lua-helpers.js';
import { LUA_SLIDING_LOG } from './sliding-log.lua.js';
import { LUA_WINDOW_ALGORITHMS } from './window-algorithms.lua.js';

/**
 * How much longer than its state means something a key is kept by Redis: the clocks of a fleet may
 * differ by up to 2 s (see the README), and an instance whose clock lags must still find the state
 * that one running ahead wrote.
 */
export const EXPIRY_MARGIN_MS = 2_000;

/**
 * Decides a request, or looks at the key's state.
 *
 * KEYS[1] the key; ARGV: mode (`consume` or `peek`), algorithm, limit, windowMs, burst (empty for
 * none), blockDurationMs, nowMs, cost.
 *
 * `consume` decides exactly as `decideRule` (lib/core/rule-decision.ts): a running block answers
 * first, then the algorithm; a denial starts a block of max(blockDurationMs, retryAfterMs) when the
 * rule has one; the new state is written, or the key deleted when the state means nothing any more;
 * a decision that changes nothing (a denial, a running block) writes nothing. `peek` answers what
 * `peekRule` would for a request of cost 1, and nil when the key holds no live state.
 *
 * A key whose state belongs to another algorithm (the rule changed) counts as fresh; its block, if
 * running, still applies.
 *
 * Reply: { allowed (1/0), limit, remaining, resetAtMs, retryAfterMs, blockedUntilMs (empty for
 * none), ongoing block (1/0) }, the numbers as text.
 */
export const RATE_LIMIT_DECIDE_SOURCE = `${LUA_HELPERS}${LUA_WINDOW_ALGORITHMS}${LUA_SLIDING_LOG}${LUA_BUCKET_ALGORITHMS}
local key = KEYS[1]
local mode, name = ARGV[1], ARGV[2]
local algorithm = ALGORITHMS[name]
if algorithm == nil then
  return redis.error_reply('ERR unknown rate-limit algorithm ' .. tostring(name))
end
local burst = tonumber(ARGV[5])
local rule = { limit = tonumber(ARGV[3]), windowMs = tonumber(ARGV[4]), capacity = burst or tonumber(ARGV[3]) }
local blockDurationMs = tonumber(ARGV[6])
local now = tonumber(ARGV[7])
local cost = tonumber(ARGV[8])

local function reply(d, blockedUntilMs, ongoing)
  local blocked = ''
  if blockedUntilMs ~= nil then
    blocked = num(blockedUntilMs)
  end
  return { d.allowed and 1 or 0, num(d.limit), num(d.remaining), num(d.resetAtMs), num(d.retryAfterMs), blocked, ongoing and 1 or 0 }
end

-- The key's state, live while its expiry is after now.
local h = {}
local flat = redis.call('HGETALL', key)
for i = 1, #flat, 2 do
  h[flat[i]] = flat[i + 1]
end
local live = h.e ~= nil and tonumber(h.e) > now
local state, blockedUntilMs = nil, nil
if live then
  blockedUntilMs = tonumber(h.b)
  if h.a == name then
    state = algorithm.read(h)
  end
end
local blocked = blockedUntilMs ~= nil and blockedUntilMs > now

-- A running block answers with the figures of a request of cost 1.
local function ongoingBlock()
  local _, d = algorithm.consume(state, rule, now, 1)
  return reply(decision(false, d.limit, 0, d.resetAtMs, blockedUntilMs - now), blockedUntilMs, true)
end

if mode == 'peek' then
  if not live then
    return false
  end
  if blocked then
    return ongoingBlock()
  end
  local _, d = algorithm.consume(state, rule, now, 1)
  return reply(d)
end

if blocked then
  return ongoingBlock()
end
local nextState, d = algorithm.consume(state, rule, now, cost)
local untilMs, expiresAtMs = nil, nil
if not d.allowed and blockDurationMs > 0 then
  untilMs = now + math.max(blockDurationMs, d.retryAfterMs)
  d = decision(false, d.limit, 0, d.resetAtMs, untilMs - now)
  expiresAtMs = math.max(untilMs, algorithm.expires(nextState, rule))
elseif live and nextState == state and blockedUntilMs == nil then
  return reply(d) -- nothing changed
else
  expiresAtMs = algorithm.expires(nextState, rule)
end

redis.call('DEL', key)
if expiresAtMs > now then
  local fields = { 'a', name, 'e', num(expiresAtMs) }
  if untilMs ~= nil then
    fields[#fields + 1] = 'b'
    fields[#fields + 1] = num(untilMs)
  end
  if nextState ~= nil then
    for _, v in ipairs(algorithm.fields(nextState)) do
      fields[#fields + 1] = v
    end
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('PEXPIRE', key, string.format('%d', math.max(1, math.ceil(expiresAtMs - now) + ${EXPIRY_MARGIN_MS})))
end
return reply(d, untilMs, false)
`;

/** Forgets a key's state (counters and rule block). KEYS[1] the key. */
export const RATE_LIMIT_RESET_SOURCE = `redis.call('DEL', KEYS[1])
return 1
`;
