// Copies the files tsc does not emit (the admin dashboard's page, styles and browser modules) into
// dist/, beside the compiled modules that serve them. Part of `npm run build`, after tsc.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = ['admin/dashboard'];

for (const folder of ASSETS) {
  const target = join(ROOT, 'dist', folder);
  // Replaced whole, so that a file removed from the sources does not linger in the package.
  rmSync(target, { recursive: true, force: true });
  cpSync(join(ROOT, 'lib', folder), target, { recursive: true });
}
