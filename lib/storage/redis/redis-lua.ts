/**
 * Lua shared by the scripts of the Redis record stores (bans, violations, allow/deny lists).
 *
 * Records live in a hash (`id` → JSON) and are ordered by a sorted set whose members all have score
 * 0 and sort by their bytes: `<16 hex digits of a time><id>`. That order is (time, id), so a page
 * starts exactly after its cursor with `ZRANGE ... BYLEX` in O(log n), whatever ties there are.
 *
 * Times arrive as strings written by JavaScript's `String(number)` and are only read by `tonumber`
 * (exact); Lua never writes a number with `tostring` or cjson, which keep 14 significant digits.
 */

/**
 * `sortable(ms)`: 16 lowercase hex digits whose byte order is the numeric order of any finite
 * double (its IEEE 754 bits, big-endian, sign bit flipped, negative numbers inverted).
 */
const SORTABLE = `
local function sortable(ms)
  ms = tonumber(ms)
  if ms == 0 then ms = 0 end
  local b = { string.byte(struct.pack('>d', ms), 1, 8) }
  if b[1] >= 128 then
    for i = 1, 8 do b[i] = 255 - b[i] end
  else
    b[1] = b[1] + 128
  end
  return string.format('%02x%02x%02x%02x%02x%02x%02x%02x', unpack(b))
end
`;

/**
 * Functions over one kind of record: `records` (hash id → JSON whose values are all strings),
 * `order` (the lexical index by `updatedAtMs`) and `purge` (sorted set id → when the record may be
 * forgotten, for records that ended).
 *
 * - `write(records, order, id, previousUpdatedAtMs, record)` stores `record` (a table of strings) and
 *   moves its index entry; returns its JSON.
 * - `forget(records, order, purge, id)` deletes a record and its index entries; 1 if there was one.
 * - `sweep(records, order, purge, nowMs, max, keepId)` forgets at most `max` records whose purge time
 *   is at or before `nowMs`, never `keepId` (the record just written); returns how many.
 */
export const LUA_RECORDS = `${SORTABLE}
local function write(records, order, id, previousUpdatedAtMs, record)
  if previousUpdatedAtMs then redis.call('ZREM', order, sortable(previousUpdatedAtMs) .. id) end
  redis.call('ZADD', order, 0, sortable(record.updatedAtMs) .. id)
  local json = cjson.encode(record)
  redis.call('HSET', records, id, json)
  return json
end

local function forget(records, order, purge, id)
  redis.call('ZREM', purge, id)
  local json = redis.call('HGET', records, id)
  if not json then return 0 end
  redis.call('ZREM', order, sortable(cjson.decode(json).updatedAtMs) .. id)
  redis.call('HDEL', records, id)
  return 1
end

local function sweep(records, order, purge, nowMs, max, keepId)
  local ids = redis.call('ZRANGE', purge, '-inf', nowMs, 'BYSCORE', 'LIMIT', 0, max)
  local swept = 0
  for _, id in ipairs(ids) do
    if id ~= keepId then
      forget(records, order, purge, id)
      swept = swept + 1
    end
  end
  return swept
end

local function increment(count)
  return string.format('%d', (tonumber(count) or 0) + 1)
end
`;

/**
 * Records of a lexical index between two bounds, at most ARGV[2] of them, newest first when ARGV[1]
 * is '1': `{ id, json, id, json, ... }` (json '' for an id without record, which no script leaves).
 * A bound is three arguments: '' (open), or '[' (inclusive) or '(' (exclusive) with a time and an id.
 * KEYS: the index, the records.
 */
export const LUA_RANGE = `${SORTABLE}
local function bound(kind, ms, id, open)
  if kind == '' then return open end
  return kind .. sortable(ms) .. id
end
local lower = bound(ARGV[3], ARGV[4], ARGV[5], '-')
local upper = bound(ARGV[6], ARGV[7], ARGV[8], '+')
local members
if ARGV[1] == '1' then
  members = redis.call('ZRANGE', KEYS[1], upper, lower, 'BYLEX', 'REV', 'LIMIT', 0, ARGV[2])
else
  members = redis.call('ZRANGE', KEYS[1], lower, upper, 'BYLEX', 'LIMIT', 0, ARGV[2])
end
local out = {}
for _, member in ipairs(members) do
  local id = string.sub(member, 17)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
end
return out
`;

/** Violations: `dropBefore(records, timeline, keyIndexPrefix, beforeMs, max)` forgets at most `max` of those before `beforeMs`, oldest first. */
export const LUA_VIOLATIONS = `${SORTABLE}
local function dropBefore(records, timeline, keyIndexPrefix, beforeMs, max)
  local members = redis.call('ZRANGE', timeline, '-', '(' .. sortable(beforeMs), 'BYLEX', 'LIMIT', 0, max)
  for _, member in ipairs(members) do
    local seq = string.sub(member, 17)
    local json = redis.call('HGET', records, seq)
    if json then
      redis.call('ZREM', keyIndexPrefix .. cjson.decode(json).key, member)
      redis.call('HDEL', records, seq)
    end
    redis.call('ZREM', timeline, member)
  end
  return #members
end
`;

/** `extend(key, ttl)`: lengthens the key's TTL to `ttl` ms, never shortens it. */
export const LUA_EXTEND = `
local function extend(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;
