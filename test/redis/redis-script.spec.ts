import { RedisScript, scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { describeRedis, redisClients } from '../harness/redis.js';

describeRedis('RedisScript', () => {
  const redis = redisClients('redis-script');

  it('runs by EVALSHA, and after NOSCRIPT (a flushed script cache) sends the script again once', async () => {
    const client = redis.connect();
    const commands: string[] = [];
    const monitor = await redis.connect({ protocol: 2 }).monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0] === 'evalsha' || args[0] === 'eval') commands.push(args[0]);
    });
    const script = new RedisScript('echo', `return redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const scripts = scriptClientOf(client);
    const key = `${redis.prefix}n`;
    await client.script('FLUSH');
    expect(await script.run(scripts, [key], [2])).toBe(2);
    expect(await script.run(scripts, [key], [3])).toBe(5);
    await client.script('FLUSH');
    expect(await script.run(scripts, [key], [1])).toBe(6);
    await new Promise((resolve) => setTimeout(resolve, 50));
    monitor.disconnect();
    // evalsha (NOSCRIPT) → eval, evalsha, evalsha (NOSCRIPT) → eval
    expect(commands).toEqual(['evalsha', 'eval', 'evalsha', 'evalsha', 'eval']);
  });

  it('passes on any other error', async () => {
    const script = new RedisScript('bad', `return redis.call('NO-SUCH-COMMAND')`);
    await expect(script.run(scriptClientOf(redis.connect()), [`${redis.prefix}x`], [])).rejects.toThrow(/Unknown Redis command|unknown command/i);
  });

  it('runs a script then WAIT on the same connection, after NOSCRIPT too, and says how many replicas have its write', async () => {
    const client = redis.connect();
    const script = new RedisScript('incr-then-wait', `return redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const scripts = scriptClientOf(client);
    const key = `${redis.prefix}w`;
    await client.script('FLUSH');
    // This server has no replica: none has the write, whatever the wait.
    expect(await script.runThenWait(scripts, [key], [2], { replicas: 0, timeoutMs: 0 })).toEqual({ reply: 2, acknowledged: 0 });
    const startedAt = performance.now();
    expect(await script.runThenWait(scripts, [key], [3], { replicas: 1, timeoutMs: 100 })).toEqual({ reply: 5, acknowledged: 0 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(90);
    await expect(new RedisScript('bad', `return redis.call('NO-SUCH-COMMAND')`).runThenWait(scripts, [key], [], { replicas: 0, timeoutMs: 0 })).rejects.toThrow(
      /Unknown Redis command|unknown command/i,
    );
  });

  it('refuses to wait for replicas with a client that cannot send WAIT with the script', async () => {
    const withoutPipeline = { evalsha: () => Promise.resolve(1), eval: () => Promise.resolve(1) };
    await expect(new RedisScript('x', 'return 1').runThenWait(scriptClientOf(withoutPipeline), ['k'], [], { replicas: 1, timeoutMs: 10 })).rejects.toThrow(
      'waiting for replicas after a write needs an ioredis client or Cluster (x).',
    );
  });

  it('refuses what is not a Redis client', () => {
    expect(() => scriptClientOf({})).toThrow(/ioredis client or Cluster/);
    expect(() => scriptClientOf(null)).toThrow(/got null/);
    expect(() => scriptClientOf({ evalSha: () => undefined, eval: () => undefined })).toThrow(/a node-redis client is not supported/);
  });

  it('refuses an ioredis client with a keyPrefix, which scripts would not see for the keys they name', () => {
    expect(() => scriptClientOf(redis.connect({ keyPrefix: 'app:' }))).toThrow(
      'client has the ioredis option keyPrefix ("app:"), which Lua scripts do not see for the keys they name themselves: give Rampart a client without it, and its prefix as redisStorage({ prefix }).',
    );
  });
});
