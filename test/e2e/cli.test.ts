import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { VERSION } from '../../src/common/version.js';
import { runtimeLabel } from '../../src/runtime/engine.js';
import { runCli, writeConfig } from '../support/cli.js';

test('-v prints the version and the runtime it runs on (the one running this test)', async () => {
  const r = await runCli(['-v']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `clash-ts v${VERSION} linux ${process.arch} with ${runtimeLabel()}\n`);
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
});

test('--help prints mihomo-style usage', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const f of ['-d', '-f', '-t', '-v', '-ext-ctl', '-ext-ui', '-secret']) assert.ok(r.stdout.includes(`  ${f}`), f);
});

test('an unknown flag exits 2 with usage', async () => {
  const r = await runCli(['-nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /flag provided but not defined: -nope/);
});

test('-t on a good config says so and exits 0', async () => {
  const file = writeConfig('mixed-port: 7890\nmode: Rule\nrules:\n  - DOMAIN-SUFFIX,example.com,DIRECT\n  - MATCH,DIRECT\n');
  const r = await runCli(['-t', '-f', file]);
  assert.equal(r.stdout.trim(), `configuration file ${file} test is successful`);
  assert.equal(r.code, 0);
});

test('-t reports every error with path and line, exit 1', async () => {
  const file = writeConfig(
    [
      'mixed-port: 7890',
      'mode: sideways',
      'proxies:',
      '  - { name: a, type: nosuchtype, server: 1.2.3.4, port: 1 }',
      'rules:',
      '  - DOMAIN,example.com,NoSuchTarget',
      '  - IP-CIDR,1.2.3.4/99,DIRECT',
      '  - MATCH,DIRECT',
      '',
    ].join('\n'),
  );
  const r = await runCli(['-t', '-f', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /test failed/);
  assert.match(r.stderr, /mode/);
  assert.match(r.stderr, /proxies\[0\]/);
  assert.match(r.stderr, /unknown proxy type/);
  assert.match(r.stderr, /rules\[0\].*line 6/);
  assert.match(r.stderr, /NoSuchTarget/);
});

test('-d with no config.yaml writes the default one, which tests fine', async () => {
  const home = mkdtempSync(join(tmpdir(), 'clash-ts-home-'));
  const r = await runCli(['-d', home, '-t']);
  assert.equal(r.code, 0, r.stderr);
  const file = join(home, 'config.yaml');
  assert.ok(existsSync(file));
  const text = readFileSync(file, 'utf8');
  assert.match(text, /mixed-port: 7890/);
  assert.match(text, /MATCH,DIRECT/);
});
