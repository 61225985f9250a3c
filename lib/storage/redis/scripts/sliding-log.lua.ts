/**
 * The sliding log in Lua, kept in the field `l` as text: the flat pairs `time cost time cost …`,
 * oldest first, separated by spaces. See lib/core/algorithms/sliding-log.algorithm.ts for the
 * conventions this mirrors (the log there is the same flat list, indexed from 0 where Lua's tables
 * start at 1).
 */
export const LUA_SLIDING_LOG = `
ALGORITHMS['sliding-log'] = {
  read = function(h)
    if h.l == nil then
      return nil
    end
    local log = {}
    for token in string.gmatch(h.l, '%S+') do
      log[#log + 1] = tonumber(token)
    end
    return { log = log }
  end,

  fields = function(s)
    local text = {}
    for i = 1, #s.log do
      text[i] = num(s.log[i])
    end
    return { 'l', table.concat(text, ' ') }
  end,

  consume = function(s, rule, now, cost)
    local limit, w = rule.limit, rule.windowMs
    local log = {}
    if s ~= nil then
      log = s.log
    end
    local n = #log

    -- Skip the entries made at or before now - w: they no longer count. Times are at odd indexes.
    local first = 1
    while first <= n and log[first] <= now - w do
      first = first + 2
    end
    local used = 0
    for i = first + 1, n, 2 do
      used = used + log[i]
    end

    if used + cost <= limit then
      local kept = {}
      for i = first, n do
        kept[#kept + 1] = log[i]
      end
      -- In time order: after the entries up to now (entries of a clock running ahead stay after it).
      -- at is the number of values before the new entry.
      local at = #kept
      while at > 0 and kept[at - 1] > now do
        at = at - 2
      end
      if at > 0 and kept[at - 1] == now then
        -- Same millisecond as an entry: add to it rather than grow the log.
        kept[at] = kept[at] + cost
      else
        table.insert(kept, at + 1, cost)
        table.insert(kept, at + 1, now)
      end
      local resetAtMs = kept[#kept - 1] + w
      return { log = kept }, decision(true, limit, math.max(0, limit - used - cost), resetAtMs, 0)
    end

    local resetAtMs = now
    if first <= n then
      resetAtMs = log[n - 1] + w
    end
    local retryAtMs = resetAtMs
    if cost <= limit then
      -- Walk the oldest entries until enough has expired; entry i is gone at its time + w.
      local excess = used + cost - limit
      for i = first, n, 2 do
        excess = excess - log[i + 1]
        if excess <= 0 then
          retryAtMs = log[i] + w
          break
        end
      end
    end
    return s, decision(false, limit, math.max(0, limit - used), resetAtMs, retryAtMs - now)
  end,

  -- The cost off the entry made at reservedAt, the entry dropped once nothing is left of it.
  refund = function(s, rule, now, cost, reservedAt)
    if s == nil or reservedAt <= now - rule.windowMs then
      return s
    end
    local log, n = s.log, #s.log
    local i = 1
    while i <= n and log[i] < reservedAt do
      i = i + 2
    end
    if i > n or log[i] ~= reservedAt then
      return s
    end
    local kept = {}
    for j = 1, n do
      kept[j] = log[j]
    end
    if log[i + 1] > cost then
      kept[i + 1] = log[i + 1] - cost
    else
      table.remove(kept, i + 1)
      table.remove(kept, i)
    end
    return { log = kept }
  end,

  expires = function(s, rule)
    if s == nil or #s.log == 0 then
      return 0
    end
    return s.log[#s.log - 1] + rule.windowMs
  end,
}
`;
