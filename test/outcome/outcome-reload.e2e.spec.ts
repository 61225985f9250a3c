/**
 * A configuration reload that brings rules counting outcomes (countIf) to an app that started
 * without any is refused with a clear problem (what settles outcomes is put in place at startup);
 * an app that started with one takes such reloads. Both adapters.
 */
import { ADAPTERS } from '../support/http-app.js';
import { ADMIN_KEY, configFolder, startConfigApp, statuses, type ConfigApp } from '../config-file/config-file.app.js';

const AUTH = { Authorization: `Bearer ${ADMIN_KEY}` };
const file = (rule: string, route = '') => `rules:\n  - { name: default, limit: 3, windowMs: 1m, algorithm: fixed-window${rule} }\nescalation: false\n${route}`;

describe.each(ADAPTERS)('a reload that brings countIf (%s)', (adapter) => {
  describe('to an app that started without it', () => {
    let t: ConfigApp;
    const folder = configFolder();

    beforeAll(async () => {
      folder.write(file(''));
      t = await startConfigApp(adapter, {
        configFile: { path: folder.path, watch: false, reloadSignal: false },
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      });
    });
    afterAll(() => t.close());

    it('is refused, on a module rule and on a route entry, and the configuration in force stays', async () => {
      folder.write(file(', countIf: failed'));
      const refused = await t.http().post('/rate-limit/config/reload').set(AUTH).expect(422);
      expect(refused.body.errors).toEqual([
        expect.stringContaining("Rule 'default' counts outcomes (countIf), but no module rule or route entry did when the app started"),
      ]);
      folder.write(file('', 'routes:\n  - { path: ^/towns, rules: [{ name: towns, limit: 9, windowMs: 1m, countIf: failed }] }\n'));
      const viaRoute = await t.http().post('/rate-limit/config/reload').set(AUTH).expect(422);
      expect(viaRoute.body.errors).toEqual([expect.stringContaining("Rule 'towns' counts outcomes (countIf)")]);
      // Every request (each a success) still counted under the limit of 3.
      expect(await statuses(t, 4, '/other', '203.0.113.1')).toEqual([200, 200, 200, 429]);
    });
  });

  describe('to an app that started with it', () => {
    let t: ConfigApp;
    const folder = configFolder();

    beforeAll(async () => {
      folder.write(file(', countIf: failed'));
      t = await startConfigApp(adapter, { configFile: { path: folder.path, watch: false, reloadSignal: false } });
    });
    afterAll(() => t.close());

    it('is applied: successes are given back under the reloaded rule', async () => {
      folder.write(file(', countIf: failed', 'routes:\n  - { path: ^/towns, rules: [{ name: towns, limit: 1, windowMs: 1m, countIf: failed }] }\n'));
      expect((await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200)).body).toMatchObject({ status: 'reloaded' });
      expect(await statuses(t, 4, '/towns', '203.0.113.2')).toEqual([200, 200, 200, 200]);
    });
  });
});
