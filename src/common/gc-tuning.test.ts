import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { engineTakesV8Flags } from '../runtime/engine.js';
import { keepYoungGenerationSmall } from './gc-tuning.js';

const MODULE = fileURLToPath(new URL('./gc-tuning.ts', import.meta.url));

/** Young-generation size (MiB) a fresh node reaches after allocating a lot, with `flags`, tuned or not. */
function youngGenAfterLoad(tune: boolean, flags: string[] = []): { applied: boolean; mib: number } {
  const script = `
    import v8 from 'node:v8';
    import { keepYoungGenerationSmall } from ${JSON.stringify(MODULE)};
    const applied = ${tune} ? keepYoungGenerationSmall() : false;
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    process.stdout.write(JSON.stringify({ applied, mib: young / 2 ** 20 }));`;
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { applied: boolean; mib: number };
}

const V8 = engineTakesV8Flags();

test('the young generation stays at its initial size when tuned from inside the process', { skip: !V8 }, () => {
  const untuned = youngGenAfterLoad(false);
  const tuned = youngGenAfterLoad(true);
  assert.equal(tuned.applied, true);
  assert.ok(untuned.mib >= 8, `untuned young generation grows (${untuned.mib} MiB)`);
  // it stops growing where it was when tuned (tsx's own loading came first here: 2-4 MiB)
  assert.ok(tuned.mib <= 4, `tuned young generation stays small (${tuned.mib} MiB)`);
});

test('a growth factor given on the command line wins', { skip: !V8 }, () => {
  const r = youngGenAfterLoad(true, ['--semi-space-growth-factor=2']);
  assert.equal(r.applied, false);
  assert.ok(r.mib >= 8, `the command line's growth applies (${r.mib} MiB)`);
});

test('on an engine without V8 flags (JavaScriptCore) the tuning declines instead of pretending', { skip: V8 }, () => {
  assert.equal(keepYoungGenerationSmall([]), false);
});

test('the engine seam tells V8 from a runtime that embeds JavaScriptCore behind a node:v8 shim', () => {
  assert.equal(engineTakesV8Flags({ v8: '12.4.254.21-node.33' } as NodeJS.ProcessVersions), true);
  assert.equal(engineTakesV8Flags({ v8: '14.6.202.34-node.20', webkit: 'd6375c72' } as unknown as NodeJS.ProcessVersions), false);
  assert.equal(engineTakesV8Flags({} as NodeJS.ProcessVersions), false);
});
