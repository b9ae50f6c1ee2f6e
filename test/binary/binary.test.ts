/**
 * The single-file binary (npm run build:binary): built once here into a temp dir, then driven
 * as a GUI client drives mihomo's: -v, -t on good and bad configs, -d with no config (the
 * embedded default), and a run with -ext-ctl and -secret that relays hashed bytes with curl,
 * DIRECT and through a real ss-server on chacha20-ietf-poly1305 (Bun's node:crypto has no
 * ChaCha: the runtime seam's noble path, inside the binary).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VERSION } from '../../src/common/version.js';
import { curl, sha256 } from '../e2e/curl.js';
import { runCli, startCli, writeConfig, type RunningCli } from '../support/cli.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';

const BUN = resolve('node_modules/@oven/bun-linux-x64/bin/bun');
let binary: string[];

before(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'clash-ts-binary-')), 'clash-ts');
  execFileSync(process.execPath, ['scripts/build-binary.mjs', out], { stdio: 'pipe', timeout: 120_000 });
  assert.ok(existsSync(out) && (statSync(out).mode & 0o111) !== 0, 'an executable file');
  binary = [out];
});

test('-v: the package version and the Bun inside', async () => {
  const bun = execFileSync(BUN, ['--version'], { encoding: 'utf8' }).trim();
  const r = await runCli(['-v'], 20_000, binary);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `clash-ts v${VERSION} linux ${process.arch} with bun ${bun}\n`);
});

test('-t: a good config exits 0, bad YAML and a bad config exit 1 naming the problem', async () => {
  const good = writeConfig('mixed-port: 7890\nrules:\n  - MATCH,DIRECT\n');
  const ok = await runCli(['-t', '-f', good], 20_000, binary);
  assert.equal(ok.stdout.trim(), `configuration file ${good} test is successful`);
  assert.equal(ok.code, 0);
  const yaml = await runCli(['-t', '-f', writeConfig('mixed-port: [7890\nrules: {\n')], 20_000, binary);
  assert.equal(yaml.code, 1);
  assert.match(yaml.stderr, /test failed/);
  const bad = await runCli(['-t', '-f', writeConfig('mode: sideways\nrules:\n  - MATCH,NoSuchTarget\n')], 20_000, binary);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /mode/);
  assert.match(bad.stderr, /NoSuchTarget/);
});

test('-d with no config.yaml: the embedded default config is written and tests fine', async () => {
  const home = mkdtempSync(join(tmpdir(), 'clash-ts-binary-home-'));
  const r = await runCli(['-d', home, '-t'], 20_000, binary);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(home, 'config.yaml'), 'utf8'), /^mixed-port: 7890$/m);
});

describe('the binary as a GUI client runs it: -ext-ctl, -secret, bytes through DIRECT and Shadowsocks chacha20', () => {
  const SECRET = 'binary-secret';
  const PASS = 'binary-pass';
  let nginx: Nginx;
  let ss: Peer;
  let cli: RunningCli;
  let mixed: number;
  let api: number;

  before(async () => {
    nginx = await startNginx();
    const ssPort = await freePort();
    ss = await startPeer({
      name: 'ss-server',
      command: 'ss-server',
      args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', PASS, '-m', 'chacha20-ietf-poly1305', '-t', '3'],
      readyPort: ssPort,
    });
    mixed = await freePort();
    api = await freePort();
    const yaml = [
      `mixed-port: ${mixed}`,
      'external-controller: 127.0.0.1:1', // -ext-ctl must win
      'proxies:',
      `  - { name: ss-chacha, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: chacha20-ietf-poly1305, password: ${PASS} }`,
      'rules:',
      '  - DOMAIN,localhost,ss-chacha',
      '  - MATCH,DIRECT',
      '',
    ].join('\n');
    const home = mkdtempSync(join(tmpdir(), 'clash-ts-binary-run-'));
    cli = await startCli(yaml, 1, ['-d', home, '-ext-ctl', `127.0.0.1:${api}`, '-secret', SECRET], { command: binary });
    await cli.waitForLine(new RegExp(`RESTful API listening at: 127\\.0\\.0\\.1:${api}`), 15_000);
  });
  after(async () => {
    const code = await cli?.stop();
    await ss?.stop();
    await nginx?.stop();
    assert.equal(code, 0, 'SIGTERM: a clean exit');
  });

  test('4 MiB through ss-server (chacha20-ietf-poly1305) and DIRECT arrive intact', async () => {
    const viaSs = await curl(['--socks5-hostname', `127.0.0.1:${mixed}`, `http://localhost:${nginx.port}/big.bin`]);
    assert.equal(viaSs.status, 200, viaSs.stderr);
    assert.equal(viaSs.sha256, sha256(nginx.files.get('big.bin')!));
    await cli.waitForLine(new RegExp(`--> localhost:${nginx.port} match .* using ss-chacha`));
    const direct = await curl(['-x', `http://127.0.0.1:${mixed}`, `http://127.0.0.1:${nginx.port}/big.bin`]);
    assert.equal(direct.status, 200, direct.stderr);
    assert.equal(direct.sha256, sha256(nginx.files.get('big.bin')!));
    await cli.waitForLine(new RegExp(`--> 127\\.0\\.0\\.1:${nginx.port} match Match using DIRECT`));
  });

  test('the controller answers with the secret only', async () => {
    const base = `http://127.0.0.1:${api}`;
    const ok = await curl(['-H', `Authorization: Bearer ${SECRET}`, `${base}/version`]);
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body.toString()).version, `v${VERSION}`);
    const no = await curl([`${base}/version`]);
    assert.equal(no.status, 401);
  });
});

test('workers: 2 from the binary: node:cluster forks the executable itself, and both workers relay', async () => {
  const nginx = await startNginx({ 'big.bin': 1 << 20 });
  const mixed = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'clash-ts-binary-workers-'));
  const cli = await startCli(`mixed-port: ${mixed}\nworkers: 2\nrules:\n  - MATCH,DIRECT\n`, 1, ['-d', home], { command: binary });
  try {
    await cli.waitForLine(/cluster: worker 2 \(pid \d+\) ready/, 15_000);
    await cli.waitForLine(/Initial configuration complete/, 15_000);
    for (let i = 0; i < 6; i++) {
      const r = await curl(['--socks5-hostname', `127.0.0.1:${mixed}`, `http://127.0.0.1:${nginx.port}/big.bin`]);
      assert.equal(r.status, 200, r.stderr);
      assert.equal(r.sha256, sha256(nginx.files.get('big.bin')!));
    }
  } finally {
    assert.equal(await cli.stop(), 0);
    await nginx.stop();
  }
});
