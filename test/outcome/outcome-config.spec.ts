/**
 * Startup checks of outcome-aware rules: a countIf that is neither a word nor a function, a
 * `consecutive` without countIf, a `waitMs` out of range or without countIf, a store that cannot give units back, and an auth guard Rampart's
 * cannot be put ahead of.
 */
import { Controller, Injectable, Post, UseGuards, type CanActivate } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { RateLimitGuard, RateLimitModule, type RateLimitStore } from '../../lib/index.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { problemsOf } from '../support/config-problems.js';
import { configFromText } from '../../lib/config-file/load-config-file.js';

const rule = { name: 'login', limit: 5, windowMs: 60_000 };

describe('outcome-aware rules at startup', () => {
  it('refuses a countIf that is neither failed, succeeded nor a function', () => {
    expect(problemsOf({ rules: [{ ...rule, countIf: 'sometimes' as never }] })).toEqual([
      "rules[0].countIf must be 'failed', 'succeeded' or a function of the request's outcome returning true to count it, got \"sometimes\".",
    ]);
  });

  it('refuses consecutive without countIf, and a consecutive that is no boolean', () => {
    expect(problemsOf({ rules: [{ ...rule, consecutive: true }] })).toEqual([expect.stringContaining('rules[0].consecutive needs rules[0].countIf')]);
    expect(problemsOf({ rules: [{ ...rule, countIf: 'failed', consecutive: 'yes' as never }] })).toEqual(['rules[0].consecutive must be true or false.']);
  });

  it('refuses consecutive on the sliding log, whose log cannot be reset without lifting a block', () => {
    expect(problemsOf({ rules: [{ ...rule, algorithm: 'sliding-log', countIf: 'failed', consecutive: true }] })).toEqual([
      expect.stringContaining('rules[0].consecutive cannot be used with the sliding-log algorithm'),
    ]);
    expect(problemsOf({ rules: [{ ...rule, algorithm: 'sliding-log', countIf: 'failed' }] })).toEqual([]);
  });

  it('accepts the words and a function', () => {
    expect(problemsOf({ rules: [{ ...rule, countIf: 'failed', consecutive: true }] })).toEqual([]);
    expect(problemsOf({ rules: [{ ...rule, countIf: (outcome) => outcome.status === 401 }] })).toEqual([]);
  });

  it('refuses a waitMs that is no whole number of milliseconds up to a minute, or that has no countIf to wait for', () => {
    for (const waitMs of [-1, 1.5, Number.NaN, 60_001, '500']) {
      expect(problemsOf({ rules: [{ ...rule, countIf: 'failed', waitMs: waitMs as never }] })).toEqual([
        expect.stringContaining('rules[0].waitMs must be a whole number of milliseconds from 0 to 60000'),
      ]);
    }
    expect(problemsOf({ rules: [{ ...rule, waitMs: 500 }] })).toEqual([expect.stringContaining('rules[0].waitMs needs rules[0].countIf')]);
    expect(
      problemsOf({
        rules: [
          { ...rule, waitMs: 0 },
          { ...rule, name: 'other', countIf: 'failed', waitMs: 60_000 },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses countIf on a rule whose limits vary per request (dynamic or adaptive)', () => {
    const problem = expect.stringContaining('rules[0].countIf cannot be combined with dynamic limits or adaptive');
    expect(problemsOf({ rules: [{ ...rule, limit: () => 5, fallback: { limit: 5 }, countIf: 'failed' } as never] })).toEqual([problem]);
    expect(problemsOf({ rules: [{ ...rule, adaptive: true, countIf: 'failed' }] })).toEqual([problem]);
  });

  it('refuses a rule that counts outcomes on a store that cannot give units back', () => {
    const memory = new MemoryRateLimitStore();
    const store: RateLimitStore = { consume: (...args) => memory.consume(...args), get: (...args) => memory.get(...args), reset: (key) => memory.reset(key) };
    expect(problemsOf({ store, rules: [{ ...rule, countIf: 'failed' }] })).toEqual([
      expect.stringContaining('cannot give units back (it has no refund method)'),
    ]);
    expect(problemsOf({ store, rules: [rule] })).toEqual([]);
  });

  it("refuses to start when an app guard runs before a route's RateLimitGuard at an earlier level", async () => {
    @Injectable()
    class AuthGuard implements CanActivate {
      canActivate() {
        return true;
      }
    }
    @Controller()
    class LoginController {
      @UseGuards(RateLimitGuard)
      @Post('login')
      login() {
        return 'ok';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ rules: [{ ...rule, countIf: 'failed' }], registerGlobalGuard: false })],
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
      controllers: [LoginController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(/LoginController\.login has rules that count outcomes \(countIf\), but AuthGuard runs before RateLimitGuard/);
    await app.close();
  });
});

describe('outcome-aware rules in a configuration file', () => {
  const fromYaml = (yaml: string) => configFromText(yaml, 'rampart.yaml', '/etc/rampart.yaml', {});

  it('takes countIf as a word, and consecutive', () => {
    const { options } = fromYaml('rules:\n  - { name: login, limit: 5, windowMs: 15m, countIf: failed, consecutive: true }\n');
    expect(options.rules).toEqual([{ name: 'login', limit: 5, windowMs: 900_000, countIf: 'failed', consecutive: true }]);
    expect(problemsOf(options)).toEqual([]);
  });

  it('takes waitMs as a duration', () => {
    const { options } = fromYaml('rules:\n  - { name: login, limit: 5, windowMs: 15m, countIf: failed, waitMs: 2s }\n');
    expect(options.rules).toEqual([{ name: 'login', limit: 5, windowMs: 900_000, countIf: 'failed', waitMs: 2_000 }]);
    expect(problemsOf(options)).toEqual([]);
  });

  it('refuses any other word, at its line and column', () => {
    expect(() => fromYaml('rules:\n  - { name: login, limit: 5, windowMs: 15m, countIf: errors }\n')).toThrow(
      /rampart\.yaml:2:54: rules\[0\]\.countIf must be 'failed', 'succeeded' or a function/,
    );
  });
});
