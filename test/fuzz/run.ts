// npm run fuzz -- [--cases N] [--target NAME[,NAME…]] [--seed S] [--path P] [--timeout-s T] [--list]
// Runs every fuzz target (or the named ones), each in a child process killed after --timeout-s
// (a hang is a finding too), one after the other, and prints a table. Exit code 1 on a finding.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FuzzResult } from './harness.js';
import { TARGETS } from './targets/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

if (process.argv.includes('--list')) {
  for (const t of TARGETS) console.log(t.name);
  process.exit(0);
}
const cases = Number(arg('cases') ?? 10_000);
if (!Number.isInteger(cases) || cases < 1) {
  console.error('--cases takes a positive integer');
  process.exit(2);
}
const names = arg('target')?.split(',');
const seed = arg('seed');
const path = arg('path');
const timeoutS = Number(arg('timeout-s') ?? 1800);
const chosen = TARGETS.filter((t) => !names || names.includes(t.name));
if (chosen.length === 0) {
  console.error(`no such target; --list shows them`);
  process.exit(2);
}

const child = fileURLToPath(new URL('./child.ts', import.meta.url));

function runOne(name: string, n: number): Promise<FuzzResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(process.execPath, ['--import', 'tsx', child, name, String(n), seed ?? '', path ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as FuzzResult);
      } catch {
        const why = signal === 'SIGKILL' ? `killed after ${timeoutS} s (a hang)` : `exited with ${code ?? signal} without a result`;
        resolve({ target: name, cases: 0, ms: Date.now() - started, finding: { seed: Number(seed ?? 0), path: undefined, counterexample: '', error: why } });
      }
    });
  });
}

const results: FuzzResult[] = [];
const t0 = Date.now();
for (const t of chosen) {
  const n = Math.max(1, Math.round(cases * (names ? 1 : (t.weight ?? 1))));
  const r = await runOne(t.name, n);
  results.push(r);
  const rate = r.cases / Math.max(0.001, r.ms / 1000);
  console.log(`${r.finding ? 'FINDING' : 'ok     '} ${t.name.padEnd(30)} ${String(r.cases).padStart(9)} cases ${(r.ms / 1000).toFixed(1).padStart(7)} s ${Math.round(rate).toString().padStart(7)}/s`);
  if (r.finding) {
    console.log(`  seed ${r.finding.seed} path ${r.finding.path ?? '-'}\n  input ${r.finding.counterexample.slice(0, 2000)}\n  ${r.finding.error.replace(/\n/g, '\n  ')}`);
  }
}
const total = results.reduce((a, r) => a + r.cases, 0);
const found = results.filter((r) => r.finding);
console.log(`\n${chosen.length} targets, ${total} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${found.length} with a finding`);
process.exit(found.length > 0 ? 1 : 0);
