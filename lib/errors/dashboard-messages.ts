/** The texts of the admin dashboard's errors; `messages.ts` re-exports them with the rest. */
import { describe } from './describe.js';

export const badAdminDashboard = (value: unknown) =>
  `admin.dashboard must be true (serve the admin dashboard at /<admin path>/dashboard) or false (the default), got ${describe(value)}.`;

export const dashboardFilesMissing = (folder: string, missing: readonly string[]) =>
  `admin.dashboard is on, but the dashboard's files cannot be read from ${folder}: ${missing.join(', ')}. ` +
  'They ship in the package under dist/admin/dashboard/: reinstall nest-rampart; building from source, run npm run build, which copies lib/admin/dashboard/ there. ' +
  'Or set admin.dashboard to false.';
