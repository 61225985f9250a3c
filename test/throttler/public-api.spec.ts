import { HttpException } from '@nestjs/common';
import type * as Real from '@nestjs/throttler';
import type * as Ours from '../../lib/throttler/index.js';
import { ours, real } from './support/libs.js';

/** true when A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Compile-time: the exported types are interchangeable (tsc fails on a `false`).
const sameTypes: Array<true> = [
  true as Same<Real.ThrottlerOptions, Ours.ThrottlerOptions>,
  true as Same<Real.ThrottlerModuleOptions, Ours.ThrottlerModuleOptions>,
  true as Same<Real.ThrottlerAsyncOptions, Ours.ThrottlerAsyncOptions>,
  true as Same<Real.ThrottlerOptionsFactory, Ours.ThrottlerOptionsFactory>,
  true as Same<Real.ThrottlerStorage, Ours.ThrottlerStorage>,
  true as Same<Real.ThrottlerLimitDetail, Ours.ThrottlerLimitDetail>,
  true as Same<Real.ThrottlerRequest, Ours.ThrottlerRequest>,
  true as Same<Real.Resolvable<number>, Ours.Resolvable<number>>,
  true as Same<Real.ThrottlerGetTrackerFunction, Ours.ThrottlerGetTrackerFunction>,
  true as Same<Real.ThrottlerGenerateKeyFunction, Ours.ThrottlerGenerateKeyFunction>,
  true as Same<Parameters<typeof Real.ThrottlerModule.forRoot>, Parameters<typeof Ours.ThrottlerModule.forRoot>>,
  true as Same<Parameters<typeof Real.ThrottlerModule.forRootAsync>, Parameters<typeof Ours.ThrottlerModule.forRootAsync>>,
  true as Same<Parameters<typeof Real.Throttle>, Parameters<typeof Ours.Throttle>>,
  true as Same<Parameters<typeof Real.SkipThrottle>, Parameters<typeof Ours.SkipThrottle>>,
  true as Same<ReturnType<typeof Real.Throttle>, ReturnType<typeof Ours.Throttle>>,
  true as Same<ConstructorParameters<typeof Real.ThrottlerGuard>, ConstructorParameters<typeof Ours.ThrottlerGuard>>,
  true as Same<Parameters<Real.ThrottlerGuard['canActivate']>, Parameters<Ours.ThrottlerGuard['canActivate']>>,
  true as Same<Parameters<Real.ThrottlerStorageService['increment']>, Parameters<Ours.ThrottlerStorageService['increment']>>,
  true as Same<Awaited<ReturnType<Real.ThrottlerStorageService['increment']>>, Awaited<ReturnType<Ours.ThrottlerStorageService['increment']>>>,
  true as Same<typeof Real.normalizeIp, typeof Ours.normalizeIp>,
  true as Same<typeof Real.minutes, typeof Ours.minutes>,
];

/** A seeded generator, so that every run checks the same inputs. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('public API of nest-rampart/throttler against @nestjs/throttler', () => {
  it('has the same types (checked by the compiler)', () => {
    expect(sameTypes.every(Boolean)).toBe(true);
  });

  it('exports the same runtime names, with the same kinds of values, plus the storage over Rampart stores', () => {
    const kinds = (m: object) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]));
    const { RampartThrottlerStorage, rampartThrottlerStorage, ...shared } = ours;
    expect([typeof RampartThrottlerStorage, typeof rampartThrottlerStorage]).toEqual(['function', 'function']);
    expect(Object.keys(shared).sort()).toEqual(Object.keys(real).sort());
    expect(kinds(shared)).toEqual(kinds(real));
  });

  it('has the same constants and tokens', () => {
    expect(ours.throttlerMessage).toBe(real.throttlerMessage);
    expect(ours.DEFAULT_IPV6_SUBNET_PREFIX).toBe(real.DEFAULT_IPV6_SUBNET_PREFIX);
    expect(ours.DEFAULT_SWEEP_INTERVAL).toBe(real.DEFAULT_SWEEP_INTERVAL);
    expect(ours.getOptionsToken()).toBe(real.getOptionsToken());
    expect(typeof ours.getStorageToken()).toBe('symbol');
    expect(ours.getStorageToken()).toBe(ours.ThrottlerStorage);
    expect(ours.getStorageToken().description).toBe((real.getStorageToken() as symbol).description);
  });

  it.each([[undefined], [''], ['Custom message']])('builds the same ThrottlerException for %p', (message) => {
    const a = new ours.ThrottlerException(message);
    const b = new real.ThrottlerException(message);
    expect(a).toBeInstanceOf(HttpException);
    expect([a.name, a.message, a.getStatus(), a.getResponse()]).toEqual([b.name, b.message, b.getStatus(), b.getResponse()]);
  });

  it('computes the same durations, fractions included', () => {
    const next = random(7);
    const inputs = [0, 1, 2, 0.1, 0.5, 1.5, 3.3, -1, 1e6, ...Array.from({ length: 200 }, () => next() * 100)];
    for (const unit of ['seconds', 'minutes', 'hours', 'days', 'weeks'] as const) {
      for (const n of inputs) expect([unit, n, ours[unit](n)]).toEqual([unit, n, real[unit](n)]);
    }
    expect([ours.seconds(1), ours.minutes(1), ours.hours(1), ours.days(1), ours.weeks(1)]).toEqual([1_000, 60_000, 3_600_000, 86_400_000, 604_800_000]);
  });

  it('normalizes client addresses identically', () => {
    const fixed = [
      '127.0.0.1',
      '203.0.113.9',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::FFFF:192.0.2.1',
      '::ffff:c000:201',
      '::',
      '::0',
      '2001:db8::1',
      '2001:DB8:0:0:1:0:0:1',
      '2001:db8:0:1:2:3:4:5',
      'fe80::1%eth0',
      'fe80::1%25',
      '1.2.3.4%eth0',
      '::1.2.3.4',
      '64:ff9b::192.0.2.33',
      '2001:db8:1::ab9:c0a8:102',
      '1::',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1:0:0:2:0:0:0:3',
      'not an ip',
      '',
      '1.2.3',
      '12345::1',
      ':::1',
      '1:2:3:4:5:6:7:8:9',
      'localhost',
      '[::1]',
      '::ffff:1.2.3.256',
    ];
    const prefixes = [undefined, 0, 1, 15, 16, 17, 48, 56, 63.9, 64, 100, 127, 128, 129, -5, NaN, Infinity];
    const next = random(42);
    const hex = () => Math.floor(next() * 0x10000).toString(16);
    const generated = Array.from({ length: 300 }, () => {
      const groups = Array.from({ length: 8 }, () => (next() < 0.4 ? '0' : hex()));
      return next() < 0.5 ? groups.join(':') : groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
    });
    for (const ip of [...fixed, ...generated]) {
      for (const prefix of prefixes) {
        expect([ip, prefix, ours.normalizeIp(ip, prefix)]).toEqual([ip, prefix, real.normalizeIp(ip, prefix as number)]);
      }
    }
    for (const value of [undefined, null, 42]) {
      expect(ours.normalizeIp(value as unknown as string)).toBe(real.normalizeIp(value as unknown as string));
    }
  });

  it('writes the same decorator metadata under the same keys', () => {
    const overrides = { default: { limit: 3 }, short: { ttl: 1_000, blockDuration: 0, getTracker: () => 'x' } };
    const decorate = (lib: typeof ours) => {
      class Target {
        handler() {}
      }
      const descriptor = Object.getOwnPropertyDescriptor(Target.prototype, 'handler')!;
      const returned = [
        lib.Throttle(overrides)(Target.prototype, 'handler', descriptor),
        lib.SkipThrottle()(Target.prototype, 'handler', descriptor),
        lib.SkipThrottle({ long: false, medium: true })(Target),
        lib.Throttle({ long: { limit: 1 } })(Target),
      ];
      const metadata = (target: object) => Object.fromEntries(Reflect.getOwnMetadataKeys(target).map((key) => [key, Reflect.getOwnMetadata(key, target)]));
      return { returned, onHandler: metadata(Target.prototype.handler), onClass: metadata(Target), descriptor, Target };
    };
    const a = decorate(ours);
    const b = decorate(real as unknown as typeof ours);
    expect(a.onHandler).toEqual(b.onHandler);
    expect(a.onClass).toEqual(b.onClass);
    expect(a.returned).toEqual([a.descriptor, a.descriptor, a.Target, a.Target]);
    expect(b.returned).toEqual([b.descriptor, b.descriptor, b.Target, b.Target]);
  });
});
