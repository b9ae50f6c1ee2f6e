import type { Config } from '../config/load.js';
import type { CliArgs } from './args.js';

/** The flags that override config keys, as the primary hands them to cluster workers. */
export type ConfigOverrides = Pick<CliArgs, 'extCtl' | 'extUi' | 'secret' | 'workers'>;

/** Applies -ext-ctl, -ext-ui, -secret and -workers over the file's values (a new frozen Config). */
export function withOverrides(config: Config, o: ConfigOverrides): Config {
  if (o.extCtl === undefined && o.extUi === undefined && o.secret === undefined && o.workers === undefined) return config;
  const general = {
    ...config.general,
    ...(o.extCtl !== undefined && { externalController: o.extCtl }),
    ...(o.extUi !== undefined && { externalUi: o.extUi }),
    ...(o.secret !== undefined && { secret: o.secret }),
    ...(o.workers !== undefined && { workers: o.workers }),
  };
  return Object.freeze({ ...config, general: Object.freeze(general) });
}

/** Just the overriding flags of `args` (what a cluster worker needs to rebuild the same Config). */
export function overridesOf(args: ConfigOverrides): ConfigOverrides {
  const { extCtl, extUi, secret, workers } = args;
  return { ...(extCtl !== undefined && { extCtl }), ...(extUi !== undefined && { extUi }), ...(secret !== undefined && { secret }), ...(workers !== undefined && { workers }) };
}
