import { createLogger } from '../common/log.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import type { Outbound } from '../core/outbound.js';
import type { Resolver } from '../core/resolver.js';
import { SelectGroup } from '../group/select/group.js';
import { SelectionStore } from '../group/selection-store.js';
import { createPass } from '../protocol/pass/outbound.js';
import { RuleEngine } from '../rule/engine.js';
import { parseRule } from '../rule/parse.js';
import { chainText, Router, type Mode } from './route.js';

function fake(name: string, udp = true): Outbound {
  return {
    name,
    type: 'Fake',
    udp,
    dialTcp: () => Promise.reject(new Error('not dialed in this test')),
    dialUdp: () => Promise.reject(new Error('not dialed in this test')),
    close: async () => {},
  };
}

function meta(host: string, network: 'tcp' | 'udp' = 'tcp'): Metadata {
  return {
    id: 'x',
    network,
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: '127.0.0.1', port: 5000 },
    destination: { host, port: 443 },
  };
}

function router(mode: Mode, lines: string[], resolveCalls: string[] = []): Router {
  const outbounds = new Map<string, Outbound>();
  for (const o of [fake('DIRECT'), fake('REJECT'), fake('tcp-only', false), fake('p1'), createPass()]) outbounds.set(o.name, o);
  const lookup = (n: string) => outbounds.get(n);
  const ctx = { lookup, selections: new SelectionStore(), providers: new Map(), log: createLogger('silent') };
  const select = (name: string, proxies: string[]) => new SelectGroup({ name, type: 'select', proxies }, ctx);
  outbounds.set('G', select('G', ['p1', 'DIRECT']));
  outbounds.set('Outer', select('Outer', ['G']));
  outbounds.set('GLOBAL', select('GLOBAL', ['REJECT', 'DIRECT']));
  const rules = lines.map((raw) => {
    const [type, a, b, ...rest] = raw.split(',');
    return type === 'MATCH'
      ? parseRule({ raw, type, payload: '', target: a, params: [] })
      : parseRule({ raw, type, payload: a, target: b, params: rest });
  });
  const resolver: Resolver = {
    resolve4: async () => [],
    resolve6: async () => [],
    resolveIp: async (h) => {
      resolveCalls.push(h);
      return '10.1.2.3';
    },
  };
  return new Router({ mode: () => mode, engine: new RuleEngine(rules), outbounds, resolver });
}

test('first match wins and groups resolve to a leaf with mihomo chain order', async () => {
  const r = await router('rule', ['DOMAIN-SUFFIX,example.com,Outer', 'MATCH,DIRECT']).route(meta('a.example.com'));
  assert.equal(r.outbound.name, 'p1');
  assert.deepEqual(r.chains, ['p1', 'G', 'Outer']);
  assert.equal(chainText(r.chains), 'Outer[p1]');
  assert.equal(r.rule?.type, 'DomainSuffix');
});

test('PASS skips to the next rule', async () => {
  const r = await router('rule', ['DOMAIN,a.com,PASS', 'DOMAIN,a.com,REJECT', 'MATCH,DIRECT']).route(meta('a.com'));
  assert.equal(r.outbound.name, 'REJECT');
});

test('UDP skips a rule whose outbound cannot carry UDP', async () => {
  const rt = router('rule', ['DOMAIN,a.com,tcp-only', 'MATCH,p1']);
  assert.equal((await rt.route(meta('a.com', 'tcp'))).outbound.name, 'tcp-only');
  assert.equal((await rt.route(meta('a.com', 'udp'))).outbound.name, 'p1');
});

test('no match falls back to DIRECT without a rule', async () => {
  const r = await router('rule', ['DOMAIN,b.com,REJECT']).route(meta('a.com'));
  assert.equal(r.outbound.name, 'DIRECT');
  assert.equal(r.rule, undefined);
});

test('global mode uses GLOBAL, direct mode DIRECT, neither consults rules', async () => {
  const calls: string[] = [];
  const g = await router('global', ['IP-CIDR,10.0.0.0/8,REJECT'], calls).route(meta('a.com'));
  assert.deepEqual(g.chains, ['REJECT', 'GLOBAL']);
  const d = await router('direct', ['IP-CIDR,10.0.0.0/8,REJECT'], calls).route(meta('a.com'));
  assert.equal(d.outbound.name, 'DIRECT');
  assert.deepEqual(calls, []);
});

test('the resolved IP is kept on the route, and resolution happens once', async () => {
  const calls: string[] = [];
  const rt = router('rule', ['IP-CIDR,10.0.0.0/8,PASS', 'IP-CIDR,10.1.0.0/16,p1', 'MATCH,DIRECT'], calls);
  const r = await rt.route(meta('a.com'));
  assert.equal(r.outbound.name, 'p1');
  assert.equal(r.ip, '10.1.2.3');
  assert.deepEqual(calls, ['a.com']);
});
