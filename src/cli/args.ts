import { MAX_WORKERS } from '../config/workers.js';

/** The CLI's options, mihomo's flag names. */
export interface CliArgs {
  /** -d: home directory (config.yaml lives there) */
  homeDir?: string;
  /** -f: config file */
  configFile?: string;
  /** -t: test the config and exit */
  test: boolean;
  /** -v: print the version and exit */
  version: boolean;
  /** -ext-ctl: override external-controller */
  extCtl?: string;
  /** -ext-ui: override external-ui */
  extUi?: string;
  /** -secret: override secret */
  secret?: string;
  /** -workers: override `workers` (clash-ts extension); 0 = one per core */
  workers?: number;
  /** -h / --help */
  help: boolean;
}

const VALUE_FLAGS: Record<string, 'homeDir' | 'configFile' | 'extCtl' | 'extUi' | 'secret'> = {
  d: 'homeDir',
  f: 'configFile',
  'ext-ctl': 'extCtl',
  'ext-ui': 'extUi',
  secret: 'secret',
};
const BOOL_FLAGS: Record<string, 'test' | 'version' | 'help'> = { t: 'test', v: 'version', h: 'help', help: 'help' };

/** The usage text for --help. */
export const USAGE = `Usage of clash-ts:
  -d string
        set configuration directory (default ~/.config/clash-ts)
  -ext-ctl string
        override external controller address
  -ext-ui string
        override external ui directory
  -f string
        specify configuration file
  -secret string
        override secret for RESTful API
  -t    test configuration and exit
  -v    show current version of clash-ts
  -workers string
        override workers: worker processes, 0 or auto = one per core (clash-ts extension)
`;

/** `-workers` takes what the config key takes: a count, or `auto` (= 0, one per core). */
function parseWorkers(value: string): number {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 0;
  if (!/^\d{1,3}$/.test(v) || Number(v) > MAX_WORKERS) throw new Error(`invalid value ${JSON.stringify(value)} for -workers: expected 0..${MAX_WORKERS} or auto`);
  return Number(v);
}

/**
 * Parses arguments the way Go's flag package does (mihomo's CLI): `-f x`, `-f=x`, `--f x`;
 * boolean flags take no value (`-t`, or `-t=true`). Throws on an unknown flag or a missing value.
 */
export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { test: false, version: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const boolKey = BOOL_FLAGS[name];
    if (boolKey) {
      if (inline !== undefined && !/^(true|false|1|0)$/i.test(inline)) {
        throw new Error(`invalid boolean value ${JSON.stringify(inline)} for -${name}`);
      }
      out[boolKey] = inline === undefined || /^(true|1)$/i.test(inline);
      continue;
    }
    const valueKey = VALUE_FLAGS[name];
    if (!valueKey && name !== 'workers') throw new Error(`flag provided but not defined: -${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`flag needs an argument: -${name}`);
    if (valueKey) out[valueKey] = value;
    else out.workers = parseWorkers(value);
  }
  return out;
}
