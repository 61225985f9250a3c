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
 * is set relative to it, `e − now` plus a margin, whenever `e` changes, and only collects garbage;
 * decisions compare `e`.
 */
import type { AlgorithmName } from '../../../core/algorithms/index.js';
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
 * KEYS[1] the key; ARGV: mode (`consume`, `peek` or `refund`), algorithm, limit, windowMs, burst
 * (empty for none), blockDurationMs, nowMs, cost, and for `refund` reservedAtMs.
 *
 * `consume` decides exactly as `decideRule` (lib/core/rule-decision.ts): a running block answers
 * first, then the algorithm; a denial starts a block of max(blockDurationMs, retryAfterMs) when the
 * rule has one; the new state is written, or the key deleted when the state means nothing any more;
 * a decision that changes nothing (a denial, a running block) writes nothing. `peek` answers what
 * `peekRule` would for a request of cost 1, and nil when the key holds no live state. `refund` gives
 * back as `refundRule` does (a running block stays) and answers 1 when it changed the state, else 0.
 *
 * A key whose state belongs to another algorithm (the rule changed) counts as fresh; its block, if
 * running, still applies.
 *
 * Reply: { allowed (1/0), limit, remaining, resetAtMs, retryAfterMs, blockedUntilMs (empty for
 * none), ongoing block (1/0) }, each number an integer reply when it is an integer within ±2^52, as
 * text otherwise (see \`out\` in lua-helpers).
 *
 * Redis runs the whole script on every call, function definitions included, so each script holds
 * only its own family of algorithms (see RATE_LIMIT_DECIDE_SOURCES).
 */
const RATE_LIMIT_DECIDE_MAIN = `
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
    blocked = out(blockedUntilMs)
  end
  return { d.allowed and 1 or 0, out(d.limit), out(d.remaining), out(d.resetAtMs), out(d.retryAfterMs), blocked, ongoing and 1 or 0 }
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

-- Writes the state to keep: the algorithm's fields, the block until untilMs (nil: none) and the
-- expiry; deletes the key when the state means nothing any more.
local function write(nextState, untilMs, expiresAtMs)
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
    -- The key then holds these fields and no other. Only what differs is written: the fields whose
    -- text changes (often the count alone), and the removal of those of the previous state that are
    -- not written again (an ended block's, another algorithm's, an expired state's).
    local written, changed = {}, {}
    for i = 1, #fields, 2 do
      local field, value = fields[i], fields[i + 1]
      written[field] = true
      if h[field] ~= value then
        changed[#changed + 1] = field
        changed[#changed + 1] = value
      end
    end
    local stale = {}
    for field in pairs(h) do
      if not written[field] then
        stale[#stale + 1] = field
      end
    end
    if #stale > 0 then
      redis.call('HDEL', key, unpack(stale))
    end
    if #changed > 0 then
      redis.call('HSET', key, unpack(changed))
    end
    -- Redis's expiry is set with e: e - now plus the margin, by whichever instance wrote e, is long
    -- enough for every clock of the fleet. An e written again unchanged keeps it.
    if h.e ~= fields[4] then
      redis.call('PEXPIRE', key, string.format('%d', math.max(1, math.ceil(expiresAtMs - now) + ${EXPIRY_MARGIN_MS})))
    end
  elseif #flat > 0 then
    redis.call('DEL', key)
  end
end

-- A running block answers with the figures of a request of cost 1.
local function ongoingBlock()
  local _, d = algorithm.consume(state, rule, now, 1)
  return reply(decision(false, d.limit, 0, d.resetAtMs, blockedUntilMs - now), blockedUntilMs, true)
end

if mode == 'refund' then
  if state == nil then
    return 0
  end
  local nextState = algorithm.refund(state, rule, now, cost, tonumber(ARGV[9]))
  if nextState == state then
    return 0
  end
  local untilMs, expiresAtMs = nil, algorithm.expires(nextState, rule)
  if blocked then
    untilMs, expiresAtMs = blockedUntilMs, math.max(blockedUntilMs, expiresAtMs)
  end
  write(nextState, untilMs, expiresAtMs)
  return 1
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

write(nextState, untilMs, expiresAtMs)
return reply(d, untilMs, false)
`;

/**
 * The decision script of each family of algorithms: the helpers, the family's algorithms, then the
 * decision. The algorithms of one family share helpers (the window counters, the buckets).
 */
export const RATE_LIMIT_DECIDE_SOURCES = {
  windows: `${LUA_HELPERS}${LUA_WINDOW_ALGORITHMS}${RATE_LIMIT_DECIDE_MAIN}`,
  'sliding-log': `${LUA_HELPERS}${LUA_SLIDING_LOG}${RATE_LIMIT_DECIDE_MAIN}`,
  buckets: `${LUA_HELPERS}${LUA_BUCKET_ALGORITHMS}${RATE_LIMIT_DECIDE_MAIN}`,
} as const;

/** Which script decides for each algorithm. */
export const RATE_LIMIT_DECIDE_FAMILY: { readonly [N in AlgorithmName]: keyof typeof RATE_LIMIT_DECIDE_SOURCES } = {
  'fixed-window': 'windows',
  'sliding-window': 'windows',
  'sliding-log': 'sliding-log',
  'token-bucket': 'buckets',
  gcra: 'buckets',
};

/** Forgets a key's state (counters and rule block). KEYS[1] the key. */
export const RATE_LIMIT_RESET_SOURCE = `redis.call('DEL', KEYS[1])
return 1
`;
