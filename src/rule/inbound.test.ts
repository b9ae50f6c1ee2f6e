import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundType, Metadata } from '../core/metadata.js';
import { InNameRule, InTypeRule, InUserRule } from './inbound.js';

function meta(type: InboundType, name = 'DEFAULT-MIXED', user?: string): Metadata {
  return {
    id: 't',
    network: 'tcp',
    inbound: { type, name, port: 7890, user },
    source: { host: '127.0.0.1', port: 50000 },
    destination: { host: 'example.com', port: 443 },
  };
}

test('IN-TYPE: case-insensitive list, SOCKS covers both versions', () => {
  const r = new InTypeRule('socks/http', 'P');
  assert.equal(r.type, 'InType');
  assert.equal(r.payload, 'SOCKS/HTTP');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(meta('SOCKS4')), true);
  assert.equal(r.match(meta('SOCKS5')), true);
  assert.equal(r.match(meta('HTTP')), true);
  assert.equal(r.match(meta('HTTPS')), false); // a CONNECT tunnel is HTTPS, not HTTP
  assert.equal(new InTypeRule('HTTPS', 'P').match(meta('HTTPS')), true);
  assert.equal(new InTypeRule('socks5', 'P').match(meta('SOCKS4')), false);
  assert.equal(new InTypeRule('INNER', 'P').match(meta('INNER')), true);
});

test('IN-TYPE: types mihomo knows but we never produce are accepted; others are errors', () => {
  assert.equal(new InTypeRule('TUN/REDIR/TPROXY/TUIC/HYSTERIA2/ANYTLS/TUNNEL', 'P').match(meta('HTTP')), false);
  assert.throws(() => new InTypeRule('MIXED', 'P'), { code: 'CONFIG', message: /invalid IN-TYPE payload "MIXED": unknown inbound type "MIXED"/ });
  assert.throws(() => new InTypeRule('HTTP/', 'P'), /unknown inbound type ""/);
  assert.throws(() => new InTypeRule('', 'P'), /invalid IN-TYPE payload/);
});

test('IN-USER: exact names, slash-separated', () => {
  const r = new InUserRule('alice/bob', 'P');
  assert.equal(r.type, 'InUser');
  assert.equal(r.payload, 'alice/bob');
  assert.equal(r.match(meta('HTTP', 'x', 'bob')), true);
  assert.equal(r.match(meta('HTTP', 'x', 'Bob')), false);
  assert.equal(r.match(meta('HTTP', 'x')), false);
  assert.equal(new InUserRule('alice/', 'P').match(meta('HTTP', 'x')), true); // '' = no user
});

test('IN-NAME: exact listener names, slash-separated', () => {
  const r = new InNameRule('DEFAULT-HTTP/ss-in', 'P');
  assert.equal(r.type, 'InName');
  assert.equal(r.payload, 'DEFAULT-HTTP/ss-in');
  assert.equal(r.match(meta('HTTP', 'ss-in')), true);
  assert.equal(r.match(meta('HTTP', 'DEFAULT-HTTP')), true);
  assert.equal(r.match(meta('HTTP', 'default-http')), false);
});
