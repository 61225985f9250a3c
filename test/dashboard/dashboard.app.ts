import type { AddressInfo } from 'node:net';
import type { RateLimitModuleOptions } from '../../lib/index.js';
import { ADMIN_KEY, BEARER, startAdminApp, type AdminScenario, type AdminTestApp } from '../admin/admin.app.js';
import type { AdapterName } from '../support/http-app.js';

export { ADMIN_KEY, BEARER };

/** A running app with the dashboard, listening on a loopback port. */
export interface DashboardApp extends AdminTestApp {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The dashboard page's URL. */
  readonly page: string;
  /** One real request: its status. */
  get(path: string, headers?: Record<string, string>): Promise<number>;
  /** One real request of `/ping` from `client` (its address in X-Forwarded-For, as a proxy on loopback sends it): the status. */
  from(client: string): Promise<number>;
  /** A call of the admin API (at its path, under the app's global prefix) with ADMIN_KEY: the status and the JSON body. */
  admin(method: string, path: string, body?: object): Promise<{ status: number; body: unknown }>;
}

/** Three requests a minute per client on `/ping`; the second violation bans the client for good. */
export const DASHBOARD_OPTIONS: RateLimitModuleOptions = {
  rules: [{ name: 'per-minute', limit: 3, windowMs: 60_000, algorithm: 'fixed-window' }],
  escalation: { blockAfterViolations: 100, permanentBanAfter: 2, permanentBanWindowMs: 3_600_000 },
};

/**
 * The admin scenario's app (memory storage, a FakeClock, clients told apart by X-Forwarded-For
 * from loopback) with `admin: { dashboard: true }` unless `scenario.admin` says otherwise,
 * listening on 127.0.0.1 for a real browser.
 */
export async function startDashboardApp(adapter: AdapterName, scenario: AdminScenario = {}): Promise<DashboardApp> {
  const t = await startAdminApp(adapter, {
    ...scenario,
    admin: scenario.admin === undefined ? { dashboard: true } : scenario.admin,
    options: { ...DASHBOARD_OPTIONS, ...scenario.options },
  });
  await t.app.listen(0, '127.0.0.1');
  const origin = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  const api = `${origin}${scenario.globalPrefix ? `/${scenario.globalPrefix}` : ''}/${scenario.admin?.path ?? 'rate-limit'}`;
  const get = async (path: string, headers: Record<string, string> = {}) => (await fetch(`${origin}${path}`, { headers })).status;
  return {
    ...t,
    origin,
    page: `${api}/dashboard`,
    get,
    from: (client) => get('/ping', { 'X-Forwarded-For': client }),
    admin: async (method, path, body) => {
      const response = await fetch(`${api}/${path}`, {
        method,
        headers: { Authorization: BEARER, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: response.status === 204 ? null : await response.json() };
    },
  };
}
