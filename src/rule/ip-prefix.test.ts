import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIPv6 } from '../common/cidr.js';
import { parsePrefix, type ParsedPrefix } from './ip-prefix.js';

function ok(text: string): ParsedPrefix {
  const p = parsePrefix(text);
  assert.notEqual(typeof p, 'string', `${text}: ${String(p)}`);
  return p as ParsedPrefix;
}

test('IPv4 prefixes keep their text and are not masked (as Go prints them)', () => {
  const p = ok('10.1.2.3/8');
  assert.equal(p.canonical, '10.1.2.3/8');
  assert.equal(p.cidr.family, 4);
  assert.equal(p.cidr.prefix, 8);
  assert.equal(ok('0.0.0.0/0').canonical, '0.0.0.0/0');
});

test('IPv6 prefixes print in RFC 5952 form', () => {
  assert.equal(ok('2001:DB8:0:0:0:0:0:0/32').canonical, '2001:db8::/32');
  assert.equal(ok('2001:db8:0:0:1:0:0:1/128').canonical, '2001:db8::1:0:0:1/128');
  assert.equal(ok('0:0:0:0:0:0:0:0/0').canonical, '::/0');
  assert.equal(ok('fe80:0:0:0:0:0:0:1/64').canonical, 'fe80::1/64');
  assert.equal(ok('1:0:1:1:1:1:1:1/16').canonical, '1:0:1:1:1:1:1:1/16'); // a single 0 group is not ::
});

test('IPv4-mapped prefixes print mapped and match as IPv4 when /96 or longer', () => {
  const p = ok('::ffff:10.0.0.0/104');
  assert.equal(p.canonical, '::ffff:10.0.0.0/104');
  assert.equal(p.mapped, true);
  assert.equal(p.cidr.family, 4);
  assert.equal(p.cidr.prefix, 8);
  const hex = ok('::FFFF:a00:0/104');
  assert.equal(hex.canonical, '::ffff:10.0.0.0/104');
  assert.equal(ok('::ffff:0.0.0.0/80').cidr.family, 6);
});

test('invalid prefixes give a reason', () => {
  for (const bad of ['1.2.3.4', '1.2.3/24', '1.2.3.4/33', '1.2.3.4/024', '1.2.3.4/', '/8', '::/129',
    'fe80::1%eth0/64', '01.2.3.4/8', 'example.com/8', '1.2.3.4/-1', '1.2.3.4/8/8', '', '/', ' 1.2.3.4/8']) {
    assert.equal(typeof parsePrefix(bad), 'string', bad);
  }
});

test('formatIPv6 compresses the first longest zero run', () => {
  assert.equal(formatIPv6(Uint32Array.of(0x00010000, 0, 0x00010000, 0)), '1::1:0:0:0'); // tie: the first run wins
  assert.equal(formatIPv6(Uint32Array.of(0x00010000, 0x00000001, 0x00000000, 0x00010001)), '1::1:0:0:1:1');
  assert.equal(formatIPv6(Uint32Array.of(0, 0, 0, 1)), '::1');
});
