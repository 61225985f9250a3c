/**
 * Where Lua 5.1 and JavaScript differ on numbers, the scripts' helpers side with JavaScript: checked
 * on the values where a naive translation goes wrong.
 */
import { windowStart } from '../../lib/core/algorithms/fixed-window.algorithm.js';
import { RedisScript, scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { LUA_HELPERS } from '../../lib/storage/redis/scripts/lua-helpers.js';
import { describeRedis, redisClients } from '../harness/redis.js';

const EVALUATE = new RedisScript(
  'lua-helpers-test',
  `${LUA_HELPERS}
local x, y = tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[1] == 'round' then return num(round(x)) end
if ARGV[1] == 'windowStart' then return num(windowStart(x, y)) end
if ARGV[1] == 'isInteger' then return isInteger(x) and 1 or 0 end
if ARGV[1] == 'out' then return out(x) end
return num(x)
`,
);

describeRedis('Lua helpers of the rate-limit scripts', () => {
  const redis = redisClients('lua-helpers');
  let run: (...args: (string | number)[]) => Promise<unknown>;
  beforeAll(() => {
    const client = scriptClientOf(redis.connect());
    run = (...args) => EVALUATE.run(client, [`${redis.prefix}unused`], args.map(String));
  });

  it('num() and tonumber carry every double through text unchanged', async () => {
    for (const x of [0.1, 1 / 3, 2 ** 53 + 2, 1893456000000.0002, 1e21, 5e-324, -123.456, 1893456000000]) {
      expect(Number(await run('num', x))).toBe(x);
    }
  });

  it('num() writes an integer with the digits of String(x), -0 as -0', async () => {
    for (const x of [0, 7, -7, 1893456000000, 2 ** 52 - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 1e15]) {
      expect({ x, text: await run('num', x) }).toEqual({ x, text: String(x) });
    }
    expect(await run('num', '-0')).toBe('-0');
  });

  it('out() answers an integer within ±2^52 as an integer reply, any other number as text that reads back the same', async () => {
    for (const x of [0, 7, -7, 1893456000000, 2 ** 52 - 1, -(2 ** 52 - 1)]) {
      expect({ x, reply: await run('out', x) }).toEqual({ x, reply: x });
    }
    // From 2^52 on, text: ioredis reads an integer reply of 2^53 - 1 as 2^53.
    for (const x of [0.5, 1 / 3, 2 ** 52, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53), 1e21, 1893456000000.0002]) {
      const reply = await run('out', x);
      expect({ x, type: typeof reply, value: Number(reply) }).toEqual({ x, type: 'string', value: x });
    }
    // -0 as an integer reply would come back as 0.
    expect(Object.is(Number(await run('out', '-0')), -0)).toBe(true);
  });

  it('round() is Math.round, halves up, where math.floor(x + 0.5) is not', async () => {
    for (const x of [0.49999999999999994, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 4503599627370495.5, 2 ** 52 + 1, 7.4999, -7.5000001]) {
      // + 0: Math.round(-0.5) is -0, a zero the scripts never meet (they round non-negative numbers).
      expect({ x, round: Number(await run('round', x)) }).toEqual({ x, round: Math.round(x) + 0 });
    }
  });

  it('windowStart() truncates like % in JavaScript, also before the epoch and for fractional times', async () => {
    for (const [t, w] of [
      [1893456012345, 1000],
      [-1500, 1000],
      [1893456012345.5, 60_000],
      [-0.5, 7],
      [1893456012345, 86_400_000],
    ]) {
      expect({ t, w, start: Number(await run('windowStart', t, w)) }).toEqual({ t, w, start: windowStart(t, w) });
    }
  });

  it('isInteger() is Number.isInteger', async () => {
    for (const x of [0, 3, 2 ** 60, 0.5, -7, -7.25, Infinity, -Infinity]) {
      expect({ x, isInteger: (await run('isInteger', x)) === 1 }).toEqual({ x, isInteger: Number.isInteger(x) });
    }
  });
});
