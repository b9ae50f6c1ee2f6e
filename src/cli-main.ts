/** The command line (mihomo's flags): loaded by main.ts once the GC is tuned. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ControllerService } from './api/service.js';
import { parseArgs, USAGE, type CliArgs } from './cli/args.js';
import { overridesOf, withOverrides } from './cli/overrides.js';
import { runClusterCli } from './cluster/cli.js';
import { createLogger } from './common/log.js';
import { VERSION } from './common/version.js';
import { DEFAULT_CONFIG_YAML, type LoadResult } from './config/load.js';
import { workerCount } from './config/workers.js';
import { ConfigError, formatIssue } from './core/config-issue.js';
import type { ControlPlane } from './core/control-plane.js';
import { errorMessage } from './core/errors.js';
import { Host, issuesOf, loadText } from './host/host.js';
import { BindError } from './host/listeners.js';
import { runtimeLabel } from './runtime/engine.js';

const GRACE_MS = 3000;

/** Where the config is: -f, else HOMEDIR/config.yaml (written with the default when missing). */
function configPath(args: CliArgs): { file: string; home: string } {
  const home = resolve(args.homeDir ?? join(homedir(), '.config', 'clash-ts'));
  if (args.configFile) return { file: resolve(args.configFile), home };
  const file = join(home, 'config.yaml');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, DEFAULT_CONFIG_YAML);
  }
  return { file, home };
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`clash-ts v${VERSION} ${process.platform} ${process.arch} with ${runtimeLabel()}\n`);
    return 0;
  }
  const { file, home } = configPath(args);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`configuration file ${file} cannot be read: ${errorMessage(err)}\n`);
    return 1;
  }
  const log = createLogger('info');
  const transform = (c: LoadResult['config']) => withOverrides(c, args);
  let loaded: LoadResult;
  try {
    const fromFile = loadText(text);
    loaded = { ...fromFile, config: transform(fromFile.config) };
    log.level = loaded.config.general.logLevel;
    for (const w of loaded.warnings) log.warn(formatIssue(w));
    if (args.test) {
      await Host.check(loaded, { log, homeDir: home });
      process.stdout.write(`configuration file ${file} test is successful\n`);
      return 0;
    }
  } catch (err) {
    const lines = issuesOf(err).map((i) => `  ${formatIssue(i)}`);
    process.stderr.write(`configuration file ${file} test failed:\n${lines.join('\n')}\n`);
    return 1;
  }

  // the REST controller follows every config the core swaps in; POST /restart re-reads the file
  let served: ControlPlane | undefined;
  const controller = new ControllerService({
    log,
    homeDir: home,
    configFile: file,
    restart: async () => {
      if (served) await served.reload(readFileSync(file, 'utf8'));
    },
  });
  const serve = (control: ControlPlane): void => {
    served = control;
    controller.serve(control);
  };
  // SIGHUP re-reads the config file and reloads, as mihomo does; a bad file is logged and the
  // running config stays. Until the core runs, a SIGHUP is ignored (Node's default would exit).
  let reloading: Promise<void> = Promise.resolve();
  process.on('SIGHUP', () => {
    const control = served;
    if (!control) return;
    reloading = reloading.then(async () => {
      log.info(`received SIGHUP, reloading configuration file ${file}`);
      try {
        await control.reload(readFileSync(file, 'utf8'));
        log.info(`configuration file ${file} reloaded`);
      } catch (err) {
        log.error(`reload of ${file} failed, the running configuration stays: ${issuesOf(err).map(formatIssue).join('; ')}`);
      }
    });
  });

  const workers = workerCount(loaded.config.general.workers, availableParallelism());
  if (workers > 1) {
    const cluster = { yaml: text, config: loaded.config, loaded, overrides: overridesOf(args), count: workers, log, graceMs: GRACE_MS, homeDir: home };
    return runClusterCli({ ...cluster, services: [controller], onStarted: serve });
  }

  // SIGINT / SIGTERM are ours from here on: one that comes while the core starts stops it as soon
  // as it runs (Node's default would kill the process with no exit code)
  let early: string | undefined;
  let stopNow: ((signal: string) => void) | undefined;
  const onStop = (signal: string): void => {
    if (stopNow) stopNow(signal);
    else early ??= signal;
  };
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGTERM', () => onStop('SIGTERM'));

  log.info(`Start initial configuration in progress`);
  const started = Date.now();
  let app: Host;
  try {
    app = await Host.start(loaded, { log, transform, homeDir: home, services: [controller] });
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof BindError)) {
      process.stderr.write(`configuration file ${file} test failed:\n${err.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}\n`);
    } else log.error(`start failed: ${errorMessage(err)}`);
    return 1;
  }
  serve(app.control);
  log.info(`Initial configuration complete, total time: ${Date.now() - started}ms`);

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        done(0); // a second signal: stop waiting for the grace period
        return;
      }
      stopping = true;
      log.info(`received ${signal}, shutting down`);
      app.close(GRACE_MS).then(
        () => done(0),
        (err: unknown) => {
          log.error(`shutdown: ${errorMessage(err)}`);
          done(0);
        },
      );
    };
    stopNow = stop;
    if (early) stop(early);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fatal: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
