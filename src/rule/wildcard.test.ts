import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import { parseRule } from './parse.js';
import { globMatch } from './wildcard.js';

const meta = (host: string): Metadata => ({
  id: '1',
  network: 'tcp',
  inbound: { type: 'SOCKS5', name: 'in', port: 1 },
  source: { host: '127.0.0.1', port: 2 },
  destination: { host, port: 443 },
});
const rule = (payload: string) => parseRule({ raw: '', type: 'DOMAIN-WILDCARD', payload, target: 'P', params: [] });

test('globMatch: * any run (dots too), ? one character', () => {
  const cases: [string, string, boolean][] = [
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['api-*.example.com', 'api-eu1.example.com', true],
    ['api-*.example.com', 'api.example.com', false],
    ['?.example.com', 'a.example.com', true],
    ['?.example.com', 'ab.example.com', false],
    ['*', '', true],
    ['', '', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000), false], // bounded backtracking: no blow-up
  ];
  for (const [p, n, want] of cases) assert.equal(globMatch(p, n), want, `${p} ~ ${n}`);
});

test('DOMAIN-WILDCARD: case-insensitive, never an IP destination, mihomo type name', () => {
  const r = rule('*.Example.COM');
  assert.equal(r.type, 'DomainWildcard');
  assert.equal(r.payload, '*.example.com');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(meta('WWW.example.com'), undefined), true);
  assert.equal(r.match(meta('example.org'), undefined), false);
  assert.equal(rule('*').match(meta('1.2.3.4'), '1.2.3.4'), false);
  assert.equal(rule('1.2.3.?').match(meta('1.2.3.4'), '1.2.3.4'), false);
  assert.throws(() => rule(''), /invalid DOMAIN-WILDCARD payload/);
});
