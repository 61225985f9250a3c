/**
 * The window algorithms in Lua: fixed window (fields `w` window start, `c` count) and the sliding
 * window counter (`w`, `c` current count, `p` previous count). See
 * lib/core/algorithms/fixed-window.algorithm.ts and sliding-window-counter.algorithm.ts for the
 * conventions these mirror.
 */
export const LUA_WINDOW_ALGORITHMS = `
ALGORITHMS['fixed-window'] = {
  read = function(h)
    if h.w == nil then
      return nil
    end
    return { windowStartMs = tonumber(h.w), count = tonumber(h.c) }
  end,

  fields = function(s)
    return { 'w', num(s.windowStartMs), 'c', num(s.count) }
  end,

  consume = function(s, rule, now, cost)
    local limit, w = rule.limit, rule.windowMs
    -- A state written by a clock running ahead: decide at its time.
    local start = windowStart(s == nil and now or math.max(now, s.windowStartMs), w)
    local resetAtMs = start + w
    local count = 0
    if s ~= nil and s.windowStartMs == start then
      count = s.count
    end
    if count + cost <= limit then
      local used = count + cost
      return { windowStartMs = start, count = used }, decision(true, limit, math.max(0, limit - used), resetAtMs, 0)
    end
    -- Denied, whatever the cost: the next window is the earliest chance.
    return s, decision(false, limit, math.max(0, limit - count), resetAtMs, resetAtMs - now)
  end,

  -- The window containing reservedAt, while it is the stored one and has not ended.
  refund = function(s, rule, now, cost, reservedAt)
    local start = windowStart(reservedAt, rule.windowMs)
    if s == nil or s.windowStartMs ~= start or now >= start + rule.windowMs or s.count <= 0 then
      return s
    end
    return { windowStartMs = start, count = math.max(0, s.count - cost) }
  end,

  expires = function(s, rule)
    if s == nil then
      return 0
    end
    return s.windowStartMs + rule.windowMs
  end,
}

-- When the estimate of a window starting at start with these counts reaches 0 for good.
local function zeroAtMs(start, current, previous, w)
  if current > 0 then
    return start + 2 * w
  end
  if previous > 0 then
    return start + w
  end
  return start
end

-- The first ms at which a request of cost (<= limit) fits, given it does not fit now.
local function admitAtMs(start, current, previous, limit, w, cost)
  -- Still in this window: need previous * (w - e) <= (limit - current - cost) * w.
  local spare = (limit - current - cost) * w
  if spare >= 0 and previous > 0 then
    local elapsed = w - math.floor(spare / previous)
    if elapsed < w then
      return start + elapsed
    end
  end
  -- Next window: current becomes previous, weighted by (w - e).
  if current == 0 then
    return start + w
  end
  local elapsed = math.max(0, w - math.floor(((limit - cost) * w) / current))
  return start + w + elapsed
end

ALGORITHMS['sliding-window'] = {
  read = function(h)
    if h.w == nil then
      return nil
    end
    return { windowStartMs = tonumber(h.w), current = tonumber(h.c), previous = tonumber(h.p) }
  end,

  fields = function(s)
    return { 'w', num(s.windowStartMs), 'c', num(s.current), 'p', num(s.previous) }
  end,

  consume = function(s, rule, now, cost)
    local limit, w = rule.limit, rule.windowMs
    local at = s == nil and now or math.max(now, s.windowStartMs)
    local start = windowStart(at, w)
    local elapsed = at - start

    -- Roll the stored windows forward to the one containing at.
    local current, previous = 0, 0
    if s ~= nil then
      if s.windowStartMs == start then
        current, previous = s.current, s.previous
      elseif s.windowStartMs == start - w then
        previous = s.current
      end
    end

    -- In units of 1/w cost unit: exact for integer inputs.
    local budget = limit * w
    local weighted = previous * (w - elapsed)
    local allowed = weighted + (current + cost) * w <= budget
    local used = current
    if allowed then
      used = current + cost
    end
    local remaining = math.max(0, math.floor((budget - weighted - used * w) / w))
    local resetAtMs = math.max(at, zeroAtMs(start, used, previous, w))

    if allowed then
      return { windowStartMs = start, current = used, previous = previous }, decision(true, limit, remaining, resetAtMs, 0)
    end
    local retryAtMs = resetAtMs
    if cost <= limit then
      retryAtMs = admitAtMs(start, current, previous, limit, w, cost)
    end
    return s, decision(false, limit, remaining, resetAtMs, retryAtMs - now)
  end,

  -- The current count while reservedAt's window is the stored one, the previous once the next is.
  refund = function(s, rule, now, cost, reservedAt)
    local w = rule.windowMs
    local start = windowStart(reservedAt, w)
    if s == nil or now >= start + 2 * w then
      return s
    end
    if s.windowStartMs == start and s.current > 0 then
      return { windowStartMs = start, current = math.max(0, s.current - cost), previous = s.previous }
    end
    if s.windowStartMs == start + w and s.previous > 0 then
      return { windowStartMs = s.windowStartMs, current = s.current, previous = math.max(0, s.previous - cost) }
    end
    return s
  end,

  expires = function(s, rule)
    if s == nil then
      return 0
    end
    return zeroAtMs(s.windowStartMs, s.current, s.previous, rule.windowMs)
  end,
}
`;
