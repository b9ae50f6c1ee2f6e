import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import { parsePortRanges, PortRule } from './port.js';

function meta(): Metadata {
  return {
    id: 't',
    network: 'tcp',
    inbound: { type: 'HTTP', name: 'DEFAULT-HTTP', port: 7890 },
    source: { host: '127.0.0.1', port: 50000 },
    destination: { host: 'example.com', port: 443 },
  };
}

test('port lists: single, ranges, reversed, commas, empty entries, brackets', () => {
  assert.deepEqual([...parsePortRanges('DST-PORT', '80')], [80, 80]);
  assert.deepEqual([...parsePortRanges('DST-PORT', '80/443/1000-2000')], [80, 80, 443, 443, 1000, 2000]);
  assert.deepEqual([...parsePortRanges('DST-PORT', '2000-1000')], [1000, 2000]);
  assert.deepEqual([...parsePortRanges('DST-PORT', '80,443')], [80, 80, 443, 443]);
  assert.deepEqual([...parsePortRanges('DST-PORT', '80//443/')], [80, 80, 443, 443]);
  assert.deepEqual([...parsePortRanges('DST-PORT', ' [80]-[90] ')], [80, 90]);
  assert.deepEqual([...parsePortRanges('DST-PORT', '0-65535')], [0, 65535]);
});

test('port lists: errors', () => {
  for (const bad of ['', '*', '/', 'http', '80-90-100', '65536', '-1', '80-', '1e3', '+80', '8 0']) {
    assert.throws(() => parsePortRanges('DST-PORT', bad), { code: 'CONFIG', message: /^invalid DST-PORT payload/ }, bad);
  }
  const many = Array.from({ length: 29 }, (_, i) => String(i + 1)).join('/');
  assert.throws(() => parsePortRanges('SRC-PORT', many), /at most 28/);
  assert.doesNotThrow(() => parsePortRanges('SRC-PORT', many.slice(0, many.lastIndexOf('/'))));
  assert.throws(() => parsePortRanges('IN-PORT', '9'.repeat(100_000)), /bad port/);
});

test('DST-PORT, SRC-PORT, IN-PORT read their own port', () => {
  const dst = new PortRule('DstPort', 'DST-PORT', '80/443', 'P');
  assert.equal(dst.type, 'DstPort');
  assert.equal(dst.payload, '80/443');
  assert.equal(dst.needsIp, false);
  assert.equal(dst.match(meta()), true);
  assert.equal(new PortRule('DstPort', 'DST-PORT', '444-500', 'P').match(meta()), false);
  assert.equal(new PortRule('SrcPort', 'SRC-PORT', '49000-51000', 'P').match(meta()), true);
  assert.equal(new PortRule('SrcPort', 'SRC-PORT', '443', 'P').match(meta()), false);
  assert.equal(new PortRule('InPort', 'IN-PORT', '7890', 'P').match(meta()), true);
  assert.equal(new PortRule('InPort', 'IN-PORT', '7891', 'P').match(meta()), false);
});
