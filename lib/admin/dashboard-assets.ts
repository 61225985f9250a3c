import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';

/**
 * Where the dashboard's files are: `dashboard/` beside this module, that is `lib/admin/dashboard/`
 * in the sources and `dist/admin/dashboard/` in the package (the build copies them there). Under
 * Jest, @swc/jest compiles `import.meta.url` to the CommonJS module's own file URL, so the same
 * line finds the sources' folder.
 */
export const DASHBOARD_FOLDER = fileURLToPath(new URL('./dashboard/', import.meta.url));

/** The page, served at `/<admin path>/dashboard`; the other files are served under it by name. */
export const DASHBOARD_PAGE = 'index.html';

/** Every file of the dashboard: nothing else is served, and each must be there at startup. */
export const DASHBOARD_FILES: readonly string[] = [
  DASHBOARD_PAGE,
  'app.css',
  'controls.css',
  'app.js',
  'api.js',
  'dom.js',
  'stats.js',
  'bans.js',
  'violations.js',
  'clients.js',
  'lists.js',
  'icon.svg',
];

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
};

/**
 * What the browser may do on the dashboard: load its own files and call its own origin, nothing
 * inline, no plugins, no frames, no forms posted anywhere, no `<base>`; and Trusted Types, so that
 * no string can be written into the DOM as HTML (the page builds it from text nodes only).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** The headers of the page and of every file it loads. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Revalidated on each load, so that an upgraded package's files are picked up at once.
  'Cache-Control': 'no-cache',
};

export interface DashboardAsset {
  readonly body: string;
  readonly contentType: string;
}

/** The dashboard's files by name, read once. */
export type DashboardAssets = ReadonlyMap<string, DashboardAsset>;

/**
 * Reads every file of the dashboard from `folder`.
 * @throws RateLimitConfigurationError naming every file that cannot be read, and how to fix it
 */
export async function loadDashboardAssets(folder: string = DASHBOARD_FOLDER): Promise<DashboardAssets> {
  const assets = new Map<string, DashboardAsset>();
  const missing: string[] = [];
  await Promise.all(
    DASHBOARD_FILES.map(async (name) => {
      try {
        assets.set(name, { body: await readFile(join(folder, name), 'utf8'), contentType: CONTENT_TYPES[extname(name)]! });
      } catch (error) {
        missing.push(`${name} (${(error as { code?: string }).code ?? String(error)})`);
      }
    }),
  );
  if (missing.length === DASHBOARD_FILES.length) throw new RateLimitConfigurationError([messages.dashboardFilesMissing(folder, ['none of them is there'])]);
  if (missing.length > 0) throw new RateLimitConfigurationError([messages.dashboardFilesMissing(folder, missing.sort())]);
  return assets;
}
