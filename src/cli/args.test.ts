import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from './args.js';

test('parses mihomo-style flags in every spelling', () => {
  const a = parseArgs(['-d', '/h', '-f=/c.yaml', '--t', '-ext-ctl', '127.0.0.1:9090', '-ext-ui', 'ui', '-secret', 's']);
  assert.equal(a.homeDir, '/h');
  assert.equal(a.configFile, '/c.yaml');
  assert.equal(a.test, true);
  assert.equal(a.extCtl, '127.0.0.1:9090');
  assert.equal(a.extUi, 'ui');
  assert.equal(a.secret, 's');
  assert.equal(a.version, false);
});

test('boolean flags take optional =true/false', () => {
  assert.equal(parseArgs(['-v=false']).version, false);
  assert.equal(parseArgs(['-v=true']).version, true);
  assert.equal(parseArgs(['--help']).help, true);
  assert.throws(() => parseArgs(['-t=maybe']), /invalid boolean/);
});

test('unknown flags, missing values and stray words are errors', () => {
  assert.throws(() => parseArgs(['-x']), /flag provided but not defined: -x/);
  assert.throws(() => parseArgs(['-f']), /flag needs an argument: -f/);
  assert.throws(() => parseArgs(['config.yaml']), /unexpected argument/);
});
