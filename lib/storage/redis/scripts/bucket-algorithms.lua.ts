/**
 * The bucket algorithms in Lua: token bucket (fields `t` tokens, `u` updated at) and GCRA (`t` the
 * theoretical arrival time). See lib/core/algorithms/token-bucket.algorithm.ts and
 * gcra.algorithm.ts for the conventions these mirror: both compute on an integer grid and snap the
 * stored number back onto it when read, so that float error never accumulates.
 */
export const LUA_BUCKET_ALGORITHMS = `
-- Token bucket: the bucket read in units of 1 / windowMs token.
local function bucketRead(s, rule, now)
  local full = rule.capacity * rule.windowMs
  if s == nil then
    return { units = full, atMs = now, full = full }
  end
  local units = math.min(full, math.max(0, round(s.tokens * rule.windowMs)))
  return { units = units, atMs = s.updatedAtMs, full = full }
end

-- Units at t >= atMs: each ms refills limit units.
local function bucketUnitsAt(bucket, rule, t)
  return math.min(bucket.full, bucket.units + (t - bucket.atMs) * rule.limit)
end

-- The first ms at which the bucket holds at least needed units (<= full).
local function bucketReachesMs(bucket, rule, needed)
  return bucket.atMs + math.max(0, math.ceil((needed - bucket.units) / rule.limit))
end

ALGORITHMS['token-bucket'] = {
  read = function(h)
    if h.t == nil then
      return nil
    end
    return { tokens = tonumber(h.t), updatedAtMs = tonumber(h.u) }
  end,

  fields = function(s)
    return { 't', num(s.tokens), 'u', num(s.updatedAtMs) }
  end,

  consume = function(s, rule, now, cost)
    local w, capacity = rule.windowMs, rule.capacity
    local bucket = bucketRead(s, rule, now)
    -- A bucket updated by a clock running ahead: decide at its time, never refill twice.
    local at = math.max(now, bucket.atMs)
    local available = bucketUnitsAt(bucket, rule, at)
    local needed = cost * w

    if available >= needed then
      local left = { units = available - needed, atMs = at, full = bucket.full }
      local resetAtMs = bucketReachesMs(left, rule, left.full)
      return { tokens = left.units / w, updatedAtMs = at }, decision(true, capacity, math.floor(left.units / w), resetAtMs, 0)
    end
    local resetAtMs = math.max(at, bucketReachesMs(bucket, rule, bucket.full))
    local retryAtMs = resetAtMs
    if cost <= capacity then
      retryAtMs = bucketReachesMs(bucket, rule, needed)
    end
    return s, decision(false, capacity, math.floor(available / w), resetAtMs, retryAtMs - now)
  end,

  -- Back what the bucket has not refilled of the reservation yet, never above capacity.
  refund = function(s, rule, now, cost, reservedAt)
    if s == nil then
      return s
    end
    local bucket = bucketRead(s, rule, now)
    local at = math.max(now, bucket.atMs)
    local available = bucketUnitsAt(bucket, rule, at)
    local back = math.min(bucket.full - available, cost * rule.windowMs - math.max(0, at - reservedAt) * rule.limit)
    if back > 0 then
      return { tokens = (available + back) / rule.windowMs, updatedAtMs = at }
    end
    return s
  end,

  expires = function(s, rule)
    if s == nil then
      return 0
    end
    local bucket = bucketRead(s, rule, s.updatedAtMs)
    return bucketReachesMs(bucket, rule, bucket.full)
  end,
}

-- GCRA: the grid on which every TAT of the rule lies, perMs units to the ms, interval units to T.
local function gcraGrid(rule)
  local a, b = rule.limit, rule.windowMs
  if isInteger(a) and isInteger(b) then
    while b ~= 0 do
      a, b = b, math.fmod(a, b)
    end
  else
    a = 1
  end
  return { perMs = rule.limit / a, interval = rule.windowMs / a }
end

-- The TAT as baseMs (whole ms) plus fraction grid units (nil: no state).
local function gcraRead(s, grid)
  if s == nil then
    return nil
  end
  local baseMs = math.floor(s.tatMs)
  return { baseMs = baseMs, fraction = round((s.tatMs - baseMs) * grid.perMs) }
end

-- How far the TAT is ahead of t, in grid units (0 when idle).
local function gcraAheadAt(tat, grid, t)
  if tat == nil then
    return 0
  end
  return math.max(0, (tat.baseMs - t) * grid.perMs + tat.fraction)
end

-- The first ms at which the TAT is at most units ahead.
local function gcraAheadAtMostMs(tat, grid, units)
  return tat.baseMs + math.ceil((tat.fraction - units) / grid.perMs)
end

-- The first ms at which the stored TAT is reached: the client is idle from then on.
local function gcraIdleAtMs(s, grid)
  local tat = gcraRead(s, grid)
  if tat == nil then
    return 0
  end
  return gcraAheadAtMostMs(tat, grid, 0)
end

ALGORITHMS['gcra'] = {
  read = function(h)
    if h.t == nil then
      return nil
    end
    return { tatMs = tonumber(h.t) }
  end,

  fields = function(s)
    return { 't', num(s.tatMs) }
  end,

  consume = function(s, rule, now, cost)
    local grid = gcraGrid(rule)
    local interval, capacity = grid.interval, rule.capacity
    local tolerance = capacity * interval -- how far ahead of now the TAT may be after admitting
    local tat = gcraRead(s, grid)
    local ahead = gcraAheadAt(tat, grid, now)
    local nextAhead = ahead + cost * interval

    if nextAhead <= tolerance then
      local stored = { tatMs = now + nextAhead / grid.perMs }
      local remaining = math.floor((tolerance - nextAhead) / interval)
      return stored, decision(true, capacity, remaining, gcraIdleAtMs(stored, grid), 0)
    end
    local resetAtMs = math.max(now, gcraIdleAtMs(s, grid))
    local retryAtMs = resetAtMs
    if cost <= capacity and tat ~= nil then
      retryAtMs = gcraAheadAtMostMs(tat, grid, tolerance - cost * interval)
    end
    local remaining = math.max(0, math.floor((tolerance - ahead) / interval))
    return s, decision(false, capacity, remaining, resetAtMs, retryAtMs - now)
  end,

  -- The TAT back by cost * T less the time since the reservation, never before now.
  refund = function(s, rule, now, cost, reservedAt)
    local grid = gcraGrid(rule)
    local ahead = gcraAheadAt(gcraRead(s, grid), grid, now)
    local back = math.min(ahead, cost * grid.interval - math.max(0, now - reservedAt) * grid.perMs)
    if s == nil or not (back > 0) then
      return s
    end
    return { tatMs = now + (ahead - back) / grid.perMs }
  end,

  expires = function(s, rule)
    return gcraIdleAtMs(s, gcraGrid(rule))
  end,
}
`;
