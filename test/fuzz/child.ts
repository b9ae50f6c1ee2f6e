// One fuzz target in its own process (run.ts kills it when it hangs): prints its result as JSON.
import { fuzzTarget } from './harness.js';
import { TARGETS } from './targets/index.js';

const [name, cases, seed, path] = process.argv.slice(2);
const t = TARGETS.find((x) => x.name === name);
if (!t) {
  console.error(`no fuzz target ${name}`);
  process.exit(2);
}
const r = await fuzzTarget(t, { cases: Number(cases), seed: seed === undefined || seed === '' ? undefined : Number(seed), path: path || undefined });
process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0));
