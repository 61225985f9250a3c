// Preloaded into each consumer app (`node --import ./isolate.mjs`): packages resolve as in an app
// installed on its own. The apps live under this repository, whose node_modules Node would otherwise
// find on the way up; a package that resolves outside the app's folder is reported as not found.
import Module, { register } from 'node:module';
import { dirname, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = dirname(fileURLToPath(import.meta.url)) + sep;
const outside = (path) => isAbsolute(path) && !path.startsWith(appDir);

// require() from CommonJS
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const path = resolveFilename.call(this, request, ...rest);
  if (outside(path)) throw Object.assign(new Error(`Cannot find module '${request}' (only outside the app: ${path})`), { code: 'MODULE_NOT_FOUND' });
  return path;
};

// import from ES modules
const hooks = `
  import { fileURLToPath } from 'node:url';
  let appDir;
  export function initialize(data) { appDir = data; }
  export async function resolve(specifier, context, next) {
    const resolved = await next(specifier, context);
    if (resolved.url.startsWith('file:') && !fileURLToPath(resolved.url).startsWith(appDir)) {
      throw Object.assign(new Error("Cannot find package '" + specifier + "' (only outside the app: " + resolved.url + ')'), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return resolved;
  }`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: appDir });
