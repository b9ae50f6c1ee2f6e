// npm run build:binary: dist/clash-ts, one executable (the pinned Bun's `bun build --compile`)
// that a GUI client spawns like mihomo's (-d, -f, -t, -v, -ext-ctl, -secret). The package version
// is baked in (the binary has no package.json beside it); the default config is code already.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

const bun = resolve('node_modules/@oven/bun-linux-x64/bin/bun');
const out = resolve(process.argv[2] ?? 'dist/clash-ts');
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
mkdirSync(resolve(out, '..'), { recursive: true });
const r = spawnSync(
  bun,
  ['build', '--compile', '--minify-syntax', '--define', `CLASH_TS_VERSION=${JSON.stringify(version)}`, 'src/main.ts', '--outfile', out],
  { stdio: 'inherit' },
);
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`${out}: clash-ts v${version}, ${(statSync(out).size / 2 ** 20).toFixed(0)} MiB`);
