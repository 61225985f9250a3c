/**
 * Lua shared by the rate-limit scripts. Redis runs Lua 5.1, whose numbers are doubles like
 * JavaScript's, so the same operations in the same order give the same results; these helpers cover
 * where the two languages' primitives differ.
 */
export const LUA_HELPERS = `
-- Whether x is an integer that travels exactly as an integer ('%d', an integer reply): within
-- ±2^52, and not -0 (which would come back as 0). Redis's replies are exact up to 2^63, but clients
-- read them into doubles, and ioredis computes n * 10 + digit before taking '0' off, which rounds
-- from 2^53 - 57 on: 2^52 leaves a margin.
local function exactInteger(x)
  return x == math.floor(x) and x < 4503599627370496 and x > -4503599627370496 and (x ~= 0 or 1 / x > 0)
end

-- Numbers are stored as text: '%.17g' reads back (Number() in Node, tonumber here) as the same
-- double, whereas tostring keeps 14 digits. An exact integer takes '%d', the same digits, written
-- without the floating-point formatting.
local function num(x)
  if exactInteger(x) then
    return string.format('%d', x)
  end
  return string.format('%.17g', x)
end

-- A number in a reply: an exact integer as an integer reply (read by the client without text),
-- any other number as num(x) (a number in a reply would be truncated to an integer).
local function out(x)
  if exactInteger(x) then
    return x
  end
  return num(x)
end

-- JavaScript's Math.round (halves towards +infinity). math.floor(x + 0.5) is not the same: x + 0.5
-- may round up (0.49999999999999994 + 0.5 == 1), while x - math.floor(x) is exact.
local function round(x)
  local f = math.floor(x)
  if x - f >= 0.5 then
    return f + 1
  end
  return f
end

-- JavaScript's Number.isInteger.
local function isInteger(x)
  return x == math.floor(x) and x ~= math.huge and x ~= -math.huge
end

-- Start of the epoch-aligned window containing t. JavaScript's t % w truncates like math.fmod (and
-- is exact); Lua's own % floors.
local function windowStart(t, w)
  local offset = math.fmod(t, w)
  if offset < 0 then
    offset = offset + w
  end
  return t - offset
end

local function decision(allowed, limit, remaining, resetAtMs, retryAfterMs)
  return { allowed = allowed, limit = limit, remaining = remaining, resetAtMs = resetAtMs, retryAfterMs = retryAfterMs }
end

-- The algorithms by name. Each one mirrors lib/core/algorithms/<name>.algorithm.ts, statement for
-- statement, with its state as a table of numbers (nil: nothing counted):
--   read(h)       the state kept in the hash fields h (nil when they hold none)
--   fields(s)     the hash fields that keep s, as a flat list of names and values
--   consume(s, rule, now, cost)  the state to keep (s itself after a denial) and the decision
--   refund(s, rule, now, cost, reservedAt)  the state with cost given back (s itself: no change)
--   expires(s, rule)             from when s is the same as no state (0 for nil)
local ALGORITHMS = {}
`;
