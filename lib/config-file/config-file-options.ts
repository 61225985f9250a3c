/** How a configuration file is loaded and reloaded (the module's `configFile` option). */
export interface ConfigFileOptions {
  /** The file: YAML (`.yaml`, `.yml`) or JSON; relative to the working directory. */
  path: string;
  /**
   * Reload when the file changes (its directory is watched, so that an editor's or Kubernetes'
   * replacement of the file is seen too).
   * @default true
   */
  watch?: boolean;
  /**
   * Reload on this signal (`kill -HUP <pid>`); `false` listens to none.
   * @default 'SIGHUP'
   */
  reloadSignal?: NodeJS.Signals | false;
}

/** `ConfigFileOptions` with its defaults. */
export interface ConfigFileSettings {
  readonly path: string;
  readonly watch: boolean;
  readonly reloadSignal: NodeJS.Signals | false;
}

/** The paths seed projects leave unlimited: health checks, metrics and API documentation. */
export const DEFAULT_EXCLUDED_PATHS: readonly string[] = Object.freeze(['/health', '/metrics', '/docs', '/redoc', '/openapi.json']);
