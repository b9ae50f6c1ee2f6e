import type { ConfigOverrides } from '../cli/overrides.js';
import type { Logger } from '../common/log.js';
import type { Config, LoadResult } from '../config/load.js';
import type { HostService } from '../core/service.js';
import { errorMessage } from '../core/errors.js';
import { startCluster, type ClusterControl } from './primary.js';

/** What the CLI hands over once the config is loaded and validated. */
export interface ClusterCliOptions {
  readonly yaml: string;
  readonly config: Config;
  readonly loaded?: LoadResult;
  readonly overrides: ConfigOverrides;
  readonly count: number;
  readonly log: Logger;
  readonly graceMs: number;
  /** parts of the primary that follow the config (the REST controller) */
  readonly services?: readonly HostService<Config>[];
  /** the home dir (-d) the primary and every worker use */
  readonly homeDir?: string;
  /** called with the cluster's control plane once every worker listens */
  readonly onStarted?: (control: ClusterControl) => void;
}

/**
 * The CLI's primary: starts the workers, then waits for SIGINT/SIGTERM and stops them (each
 * gives its connections `graceMs`). Resolves with the exit code: 0 after a signal, 1 when the
 * workers could not start. A second signal stops waiting for the grace period.
 */
export async function runClusterCli(o: ClusterCliOptions): Promise<number> {
  const started = Date.now();
  o.log.info(`Start initial configuration in progress`);
  o.log.info(`cluster: starting ${o.count} workers`);
  let control;
  try {
    control = await startCluster({ yaml: o.yaml, config: o.config, loaded: o.loaded, overrides: o.overrides, count: o.count, log: o.log, services: o.services, homeDir: o.homeDir });
  } catch (err) {
    o.log.error(`start failed: ${errorMessage(err)}`);
    return 1;
  }
  o.onStarted?.(control);
  o.log.info(`Initial configuration complete, total time: ${Date.now() - started}ms`);
  const ctl = control;
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        done(0);
        return;
      }
      stopping = true;
      o.log.info(`received ${signal}, shutting down`);
      ctl.stop(o.graceMs).then(
        () => done(0),
        (err: unknown) => {
          o.log.error(`shutdown: ${errorMessage(err)}`);
          done(0);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
