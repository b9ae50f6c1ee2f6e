import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import { literalIp, ruleHost } from './destination.js';

const to = (host: string): Metadata => ({
  id: 't',
  network: 'tcp',
  inbound: { type: 'HTTP', name: 'x', port: 1 },
  source: { host: '127.0.0.1', port: 1 },
  destination: { host, port: 80 },
});

test('literalIp: IP literals, unmapped; domains are undefined', () => {
  assert.equal(literalIp('1.2.3.4'), '1.2.3.4');
  assert.equal(literalIp('::1'), '::1');
  assert.equal(literalIp('::ffff:1.2.3.4'), '1.2.3.4');
  assert.equal(literalIp('example.com'), undefined);
  assert.equal(literalIp('1.2.3.4.nip.io'), undefined);
  assert.equal(literalIp('host1'), undefined);
  assert.equal(literalIp(''), undefined);
});

test('ruleHost: lower-cased domain, empty for IPs', () => {
  assert.equal(ruleHost(to('WWW.Example.com')), 'www.example.com');
  assert.equal(ruleHost(to('10.0.0.1')), '');
  assert.equal(ruleHost(to('2001:db8::1')), '');
});
