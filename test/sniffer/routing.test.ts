import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../../src/core/metadata.js';
import type { Outbound } from '../../src/core/outbound.js';
import type { Resolver } from '../../src/core/resolver.js';
import { RuleEngine } from '../../src/rule/engine.js';
import { parseRule } from '../../src/rule/parse.js';
import { Router } from '../../src/tunnel/route.js';

function fake(name: string): Outbound {
  return { name, type: 'Fake', udp: true, dialTcp: () => Promise.reject(new Error('no')), dialUdp: () => Promise.reject(new Error('no')), close: async () => {} };
}

function router(lines: string[], resolved: string[]): Router {
  const outbounds = new Map<string, Outbound>(['DIRECT', 'REJECT', 'BY-IP', 'BY-NAME'].map((n) => [n, fake(n)]));
  const rules = lines.map((raw) => {
    const [type, a, b, ...rest] = raw.split(',');
    return type === 'MATCH' ? parseRule({ raw, type, payload: '', target: a, params: [] }) : parseRule({ raw, type, payload: a, target: b, params: rest });
  });
  const resolver: Resolver = {
    resolve4: async () => [],
    resolve6: async () => [],
    resolveIp: async (h) => {
      resolved.push(h);
      return '10.9.9.9';
    },
  };
  return new Router({ mode: () => 'rule', engine: new RuleEngine(rules), outbounds, resolver });
}

const base: Metadata = {
  id: 'x',
  network: 'tcp',
  inbound: { type: 'SOCKS5', name: 'DEFAULT-SOCKS', port: 1 },
  source: { host: '127.0.0.1', port: 2 },
  destination: { host: '203.0.113.7', port: 443 },
};

test('domain rules match sniffHost even without override (mihomo RuleHost); the destination IP stays for IP rules', async () => {
  const resolved: string[] = [];
  const r = router(['DOMAIN-SUFFIX,sniffed.test,BY-NAME', 'MATCH,DIRECT'], resolved);
  assert.equal((await r.route(base)).outbound.name, 'DIRECT');
  const sniffed = await r.route({ ...base, sniffHost: 'www.sniffed.test' });
  assert.equal(sniffed.outbound.name, 'BY-NAME');
  assert.equal(sniffed.ip, '203.0.113.7');
  assert.deepEqual(resolved, []);
});

test('override-destination: IP rules see the IP the client asked for, never a lookup of the sniffed name', async () => {
  const resolved: string[] = [];
  const r = router(['IP-CIDR,203.0.113.0/24,BY-IP', 'MATCH,DIRECT'], resolved);
  const overridden: Metadata = { ...base, sniffHost: 'x.sniffed.test', destination: { host: 'x.sniffed.test', port: 443 }, destinationIp: '203.0.113.7' };
  const route = await r.route(overridden);
  assert.equal(route.outbound.name, 'BY-IP');
  assert.equal(route.ip, '203.0.113.7');
  assert.deepEqual(resolved, []);
  // the same name with no known IP is resolved (and 10.9.9.9 is outside the rule)
  const bare = await r.route({ ...base, destination: { host: 'x.sniffed.test', port: 443 } });
  assert.equal(bare.outbound.name, 'DIRECT');
  assert.deepEqual(resolved, ['x.sniffed.test']);
});
