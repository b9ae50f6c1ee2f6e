/** `npm run soak -- --minutes N …`: the options of one soak run and their defaults. */

/** What one soak run does. */
export interface SoakOptions {
  /** minutes of load (fractions allowed, for quick checks) */
  readonly minutes: number;
  /** new connections per second, spread over every protocol row */
  readonly rate: number;
  /** long-lived tunnels, each exchanging hashed data every 2-6 s */
  readonly tunnels: number;
  /** SOCKS5 UDP flows, each sending a datagram a second */
  readonly udpFlows: number;
  /** the seed of every size, interval and payload */
  readonly seed: number;
  /** clash-ts `workers` (1 = one process) */
  readonly workers: number;
  /** seconds between samples */
  readonly sampleSeconds: number;
  /** seconds between config reloads (PUT /configs?force=true) */
  readonly reloadSeconds: number;
  /** seconds between selector switches (PUT /proxies/sel) */
  readonly switchSeconds: number;
  /** seconds between bulk downloads (nginx) */
  readonly bulkSeconds: number;
  /** bytes of each bulk download */
  readonly bulkBytes: number;
  /** regenerate docs/stability.md and docs/stability/*.svg */
  readonly report: boolean;
  /** where the run's results JSON goes (default: a temp dir, printed) */
  readonly out?: string;
  /** no run: judge and report a results JSON written earlier */
  readonly from?: string;
}

export const DEFAULTS: SoakOptions = {
  minutes: 10,
  rate: 20,
  tunnels: 1000,
  udpFlows: 20,
  seed: 1,
  workers: 1,
  sampleSeconds: 10,
  reloadSeconds: 180,
  switchSeconds: 60,
  bulkSeconds: 60,
  bulkBytes: 32 << 20,
  report: false,
};

const NUMERIC: Record<string, keyof SoakOptions> = {
  '--minutes': 'minutes',
  '--rate': 'rate',
  '--tunnels': 'tunnels',
  '--udp-flows': 'udpFlows',
  '--seed': 'seed',
  '--workers': 'workers',
  '--sample-seconds': 'sampleSeconds',
  '--reload-seconds': 'reloadSeconds',
  '--switch-seconds': 'switchSeconds',
  '--bulk-seconds': 'bulkSeconds',
  '--bulk-bytes': 'bulkBytes',
};

/** Hard bounds, so a typo cannot start an unbounded load on a shared machine. */
const BOUNDS: Partial<Record<keyof SoakOptions, [number, number]>> = {
  minutes: [0.1, 48 * 60],
  rate: [0, 500],
  tunnels: [0, 8000],
  udpFlows: [0, 1000],
  workers: [1, 16],
  sampleSeconds: [1, 600],
  reloadSeconds: [5, 86_400],
  switchSeconds: [5, 86_400],
  bulkSeconds: [5, 86_400],
  bulkBytes: [1024, 1 << 30],
};

/** Parses argv (`--key value` or `--key=value`); throws a clear error on anything unknown. */
export function parseArgs(argv: readonly string[]): SoakOptions {
  const o: Record<string, unknown> = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (a === '--report') {
      o.report = v === undefined ? true : v !== 'false';
      continue;
    }
    if (a === '--from') {
      o.from = v ?? argv[++i];
      if (!o.from) throw new Error('--from needs a results JSON path');
      continue;
    }
    if (a === '--out') {
      o.out = v ?? argv[++i];
      if (!o.out) throw new Error('--out needs a path');
      continue;
    }
    const key = NUMERIC[a];
    if (!key) throw new Error(`unknown option ${a} (known: ${[...Object.keys(NUMERIC), '--report', '--out', '--from'].join(' ')})`);
    const raw = v ?? argv[++i];
    const n = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(n)) throw new Error(`${a} needs a number, got ${raw}`);
    const [lo, hi] = BOUNDS[key] ?? [-Infinity, Infinity];
    if (n < lo || n > hi) throw new Error(`${a} ${n} is outside ${lo}..${hi}`);
    o[key] = n;
  }
  return o as unknown as SoakOptions;
}

/** The command line that reproduces a run with these options. */
export function commandLine(o: SoakOptions): string {
  const parts = ['npm run soak --', `--minutes ${o.minutes}`];
  for (const [flag, key] of Object.entries(NUMERIC)) {
    if (key !== 'minutes' && o[key] !== DEFAULTS[key]) parts.push(`${flag} ${String(o[key])}`);
  }
  if (o.report) parts.push('--report');
  return parts.join(' ');
}
