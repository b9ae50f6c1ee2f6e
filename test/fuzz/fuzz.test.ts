// The short fuzz mode that `npm test` runs: every target with ~10,000 cases (scaled by its
// weight for the slow ones), through the same harness as `npm run fuzz`. A random seed each run
// (printed on a finding, with fast-check's shrunk input, so `npm run fuzz -- --target NAME
// --seed S --path P` replays it). FUZZ_CASES overrides the count.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fuzzTarget } from './harness.js';
import { TARGETS } from './targets/index.js';

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);

describe('fuzz (short mode)', { timeout: 600_000 }, () => {
  // Once a run took 15 min to exit after every case had passed (something a stream-level case
  // left open kept the event loop alive; not reproduced since). Every target tears its
  // listener down, but a leaked handle must not stall npm test: an unref'd timer ends this
  // file's process 5 s after the last test only if something still holds it.
  after(() => {
    setTimeout(() => {
      const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map((h) => h.constructor.name);
      console.error(`fuzz.test.ts: still running 5 s after its tests, held by ${handles.join(', ')}: exiting`);
      process.exit(process.exitCode ?? 0);
    }, 5000).unref();
  });
  for (const t of TARGETS) {
    it(`${t.name} survives ${Math.round(CASES * (t.weight ?? 1))} cases`, async () => {
      const r = await fuzzTarget(t, { cases: Math.max(1, Math.round(CASES * (t.weight ?? 1))) });
      if (r.finding) {
        const f = r.finding;
        assert.fail(`${t.name}: ${f.error}\n  input ${f.counterexample.slice(0, 1000)}\n  replay: npm run fuzz -- --target ${t.name} --seed ${f.seed} --path ${f.path}`);
      }
      assert.equal(r.cases, Math.max(1, Math.round(CASES * (t.weight ?? 1))));
    });
  }
});
