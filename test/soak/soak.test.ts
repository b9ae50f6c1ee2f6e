// test-file-timeout: 480000 (the 2-minute soak, its settling and the CLI's start; scripts/run-tests.mjs)
/**
 * The 2-minute soak of `npm test`: bench/soak/run.ts drives the built CLI (dist/main.js) at a
 * reduced load against the real local servers, then stops the load and lets the core settle.
 * It fails on a leak judged by before/after counts (not the RSS slope, meaningless over two
 * minutes): tracker entries left, open fds or active handles not back to the start ±2, any
 * corrupted byte, any load error; and on a load that did not really run (each part counted).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SoakResult } from '../../bench/soak/run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('2-minute soak through the built CLI: no leaks, no corruption, no errors', { timeout: 420_000 }, async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'clash-ts-soak-test-')), 'results.json');
  const args = ['--import', 'tsx', join(ROOT, 'bench/soak/run.ts'), '--minutes', '2', '--rate', '4', '--tunnels', '120', '--udp-flows', '6',
    '--switch-seconds', '20', '--reload-seconds', '40', '--bulk-seconds', '30', '--bulk-bytes', String(4 << 20), '--seed', '16', '--out', out];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const killer = setTimeout(() => child.kill('SIGTERM'), 400_000);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  assert.notEqual(code, 2, `the soak itself failed:\n${output.slice(-4000)}`);
  const r = JSON.parse(readFileSync(out, 'utf8')) as SoakResult;
  for (const c of r.verdict.checks) t.diagnostic(`${c.result}: ${c.name}: ${c.value}`);
  t.diagnostic(`totals ${JSON.stringify(r.totals)}; connect ms ${JSON.stringify(r.connect)}; settled in ${r.settleSeconds} s`);
  const check = (prefix: string) => r.verdict.checks.find((c) => c.name.startsWith(prefix));
  for (const c of r.verdict.checks.filter((x) => x.leak)) assert.equal(c.result, 'pass', `${c.name}: ${c.value} (goal ${c.goal})\n${output.slice(-3000)}`);
  assert.equal(code, 0, output.slice(-3000));
  // two minutes judge no slope: the verdict says so instead of passing it
  assert.equal(check('RSS growth')?.result, 'not judged');
  const end = r.samples[r.samples.length - 1];
  const start = r.samples[0];
  assert.equal(end.phase, 'end');
  assert.equal(end.tracker, 0);
  assert.ok(Math.abs(end.fds - start.fds) <= 2 && Math.abs(end.handles - start.handles) <= 2, `fds ${start.fds} → ${end.fds}, handles ${start.handles} → ${end.handles}`);
  // the load really ran: every part of it counted something, and it went through the warm pool
  const n = r.totals;
  assert.equal(n.bytesCorrupted, 0);
  assert.deepEqual(r.errors, {});
  assert.ok(n.connectionsOk >= 200, `new connections ${n.connectionsOk}`);
  assert.ok(n.exchangesOk >= 2000, `tunnel exchanges ${n.exchangesOk}`);
  assert.ok(n.bulkOk >= 4, `bulk downloads ${n.bulkOk}`);
  assert.ok(n.udpVerified >= 300 && n.udpVerified >= n.udpSent * 0.95, `UDP ${n.udpVerified} of ${n.udpSent}`);
  assert.ok(n.reloads >= 2 && n.switches >= 5, `reloads ${n.reloads}, switches ${n.switches}`);
  const load = r.samples.filter((s) => s.phase === 'load');
  assert.ok(load.length >= 10, `${load.length} samples under load`);
  assert.ok(Math.max(...load.map((s) => s.tracker)) >= 120, 'the tunnels were in the tracker');
  assert.ok(load[load.length - 1].poolHits > 0, 'Trojan / VLESS rode warm connections');
  assert.equal(r.exitCode, 0, 'clash-ts exits 0 on SIGTERM');
});
