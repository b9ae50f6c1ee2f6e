import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import { IpCidrRule, IpSuffixRule, ipRuleOptions } from './ip.js';

function meta(dst: string, src = '192.168.1.10'): Metadata {
  return {
    id: 't',
    network: 'tcp',
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: src, port: 50000 },
    destination: { host: dst, port: 443 },
  };
}
const DST = { source: false, noResolve: false };
const NORES = { source: false, noResolve: true };
const SRC = { source: true, noResolve: true };

test('modifiers: src implies no-resolve; names are exact', () => {
  assert.deepEqual(ipRuleOptions([]), DST);
  assert.deepEqual(ipRuleOptions(['no-resolve']), NORES);
  assert.deepEqual(ipRuleOptions(['src']), SRC);
  assert.deepEqual(ipRuleOptions(['src', 'no-resolve']), SRC);
  assert.deepEqual(ipRuleOptions(['NO-RESOLVE', 'Src']), DST);
});

test('IP-CIDR matches the destination IP passed in', () => {
  const r = new IpCidrRule('IP-CIDR', '10.0.0.0/8', 'P', DST);
  assert.equal(r.type, 'IPCIDR');
  assert.equal(r.payload, '10.0.0.0/8');
  assert.equal(r.needsIp, true);
  assert.equal(r.match(meta('example.com'), '10.1.2.3'), true);
  assert.equal(r.match(meta('10.1.2.3'), '10.1.2.3'), true);
  assert.equal(r.match(meta('example.com'), '11.1.2.3'), false);
  assert.equal(r.match(meta('example.com'), undefined), false);
  assert.equal(r.match(meta('example.com'), '::ffff:10.9.9.9'), true); // mapped is unmapped
  assert.equal(r.match(meta('example.com'), '::1'), false);
});

test('IP-CIDR6 and IPv6 prefixes; no-resolve clears needsIp', () => {
  const r = new IpCidrRule('IP-CIDR6', '2001:DB8::/32', 'P', NORES);
  assert.equal(r.type, 'IPCIDR');
  assert.equal(r.payload, '2001:db8::/32');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(meta('x'), '2001:db8:1::5'), true);
  assert.equal(r.match(meta('x'), '2001:db9::5'), false);
  assert.equal(r.match(meta('x'), '1.2.3.4'), false);
  const mapped = new IpCidrRule('IP-CIDR6', '::ffff:10.0.0.0/104', 'P', DST);
  assert.equal(mapped.match(meta('x'), '10.2.3.4'), true);
});

test('SRC-IP-CIDR and IP-CIDR,src match the source, never resolve', () => {
  const r = new IpCidrRule('SRC-IP-CIDR', '192.168.0.0/16', 'P', SRC);
  assert.equal(r.type, 'SrcIPCIDR');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(meta('example.com'), undefined), true);
  assert.equal(r.match(meta('example.com', '10.0.0.1'), '192.168.0.1'), false);
  assert.equal(r.match(meta('example.com', '::ffff:192.168.9.9'), undefined), true);
});

test('IP-CIDR payload errors are clear', () => {
  assert.throws(() => new IpCidrRule('IP-CIDR', '1.2.3/33', 'P', DST), {
    code: 'CONFIG',
    message: /^invalid IP-CIDR payload "1\.2\.3\/33": /,
  });
  assert.throws(() => new IpCidrRule('IP-CIDR', '1.2.3.4', 'P', DST), /prefix length/);
  assert.throws(() => new IpCidrRule('IP-CIDR6', '::/200', 'P', DST), /0-128/);
});

test('IP-SUFFIX compares the last bits only', () => {
  const r = new IpSuffixRule('IP-SUFFIX', '8.8.8.8/24', 'P', DST);
  assert.equal(r.type, 'IPSuffix');
  assert.equal(r.payload, '8.8.8.8/24');
  assert.equal(r.needsIp, true);
  assert.equal(r.match(meta('x'), '1.8.8.8'), true);
  assert.equal(r.match(meta('x'), '1.9.8.8'), false);
  const odd = new IpSuffixRule('IP-SUFFIX', '0.0.0.5/3', 'P', DST); // low 3 bits = 101
  assert.equal(odd.match(meta('x'), '9.9.9.13'), true); // 13 = 1101
  assert.equal(odd.match(meta('x'), '9.9.9.6'), false);
  assert.equal(new IpSuffixRule('IP-SUFFIX', '1.2.3.4/0', 'P', DST).match(meta('x'), '5.6.7.8'), true);
  assert.equal(new IpSuffixRule('IP-SUFFIX', '1.2.3.4/32', 'P', DST).match(meta('x'), '1.2.3.4'), true);
  assert.equal(r.match(meta('x'), '::8'), false); // other family
  assert.equal(r.match(meta('x'), undefined), false);
});

test('IP-SUFFIX over IPv6 spans word boundaries', () => {
  const r = new IpSuffixRule('IP-SUFFIX', '::1:0:abcd/40', 'P', NORES);
  assert.equal(r.match(meta('x'), '2001:db8::ff01:0:abcd'), true);
  assert.equal(r.match(meta('x'), '2001:db8::ff02:0:abcd'), false);
  assert.equal(new IpSuffixRule('IP-SUFFIX', '::ffff:0.0.0.9/8', 'P', DST).match(meta('x'), '7.7.7.9'), true);
});

test('SRC-IP-SUFFIX reads the source', () => {
  const r = new IpSuffixRule('SRC-IP-SUFFIX', '0.0.0.10/8', 'P', SRC);
  assert.equal(r.type, 'SrcIPSuffix');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(meta('x', '172.16.0.10'), undefined), true);
  assert.equal(r.match(meta('x', '172.16.0.11'), '1.1.1.10'), false);
  assert.throws(() => new IpSuffixRule('SRC-IP-SUFFIX', 'x/8', 'P', SRC), /invalid SRC-IP-SUFFIX payload "x\/8"/);
});
