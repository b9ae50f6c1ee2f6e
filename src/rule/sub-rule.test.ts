import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createLogger } from '../common/log.js';
import type { Metadata } from '../core/metadata.js';
import { Host } from '../host/host.js';

const hosts: Host[] = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.close(0)));
});

const meta = (host: string, network: 'tcp' | 'udp' = 'tcp', port = 443): Metadata => ({
  id: '1',
  network,
  inbound: { type: 'SOCKS5', name: 'in', port: 1 },
  source: { host: '127.0.0.1', port: 2 },
  destination: { host, port },
});

async function start(yaml: string): Promise<Host> {
  const h = await Host.start(yaml, { log: createLogger('silent', () => undefined) });
  hosts.push(h);
  return h;
}

const PROXIES = `
proxies:
  - { name: A, type: socks5, server: 127.0.0.1, port: 1 }
  - { name: B, type: socks5, server: 127.0.0.1, port: 2 }
`;

test('SUB-RULE: the condition gates its set; the set first match decides; no match goes on', async () => {
  const h = await start(`${PROXIES}
sub-rules:
  web:
    - DOMAIN-SUFFIX,a.test,A
    - SUB-RULE,(DST-PORT,8443),deep
    - DOMAIN-KEYWORD,bee,B
  deep:
    - DOMAIN-SUFFIX,deep.test,B
rules:
  - SUB-RULE,(NETWORK,tcp),web
  - DOMAIN-SUFFIX,a.test,REJECT
  - MATCH,DIRECT
`);
  const route = async (m: Metadata) => {
    const r = await h.generation.router.route(m);
    return [r.chains[r.chains.length - 1], r.rule?.type ?? '', r.rule?.payload ?? ''];
  };
  assert.deepEqual(await route(meta('x.a.test')), ['A', 'SubRules', '(NETWORK,tcp)']);
  assert.deepEqual(await route(meta('honeybee.test')), ['B', 'SubRules', '(NETWORK,tcp)']);
  // nested SUB-RULE: its own condition, then its set
  assert.deepEqual(await route(meta('x.deep.test', 'tcp', 8443)), ['B', 'SubRules', '(NETWORK,tcp)']);
  assert.deepEqual(await route(meta('x.deep.test', 'tcp', 443)), ['DIRECT', 'Match', '']);
  // the condition fails for UDP: the sub-rule set is skipped, the next line matches
  assert.deepEqual(await route(meta('x.a.test', 'udp')), ['REJECT', 'DomainSuffix', 'a.test']);
  // nothing in the set matches: routing goes on after the SUB-RULE line
  assert.deepEqual(await route(meta('other.test')), ['DIRECT', 'Match', '']);
  const view = h.control.rules()[0];
  assert.deepEqual([view.type, view.payload, view.proxy], ['SubRules', '(NETWORK,tcp)', 'web']);
});

test('SUB-RULE config errors: unknown set, circular references, bad targets inside a set', async () => {
  const check = (yaml: string) =>
    Host.check(yaml).then(
      () => '',
      (err: { issues?: { path: string; message: string }[] }) => (err.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('\n'),
    );
  assert.match(await check('rules:\n  - SUB-RULE,(NETWORK,tcp),nope\n'), /rules\[0\]: sub-rule \[nope\] not found/);
  assert.match(
    await check('sub-rules:\n  a: [ "SUB-RULE,(NETWORK,tcp),b" ]\n  b: [ "SUB-RULE,(NETWORK,udp),a" ]\nrules:\n  - MATCH,DIRECT\n'),
    /circular references \[a->b->a\]/,
  );
  assert.match(await check('sub-rules:\n  a: [ "DOMAIN,x.test,NOPE" ]\n'), /sub-rules\.a\[0\]: unknown target "NOPE"/);
  assert.match(await check('rules:\n  - SUB-RULE,(NETWORK,tcp),\n'), /empty target|not found/);
  assert.equal(await check('sub-rules:\n  a: [ "MATCH,DIRECT" ]\nrules:\n  - SUB-RULE,(AND,((NETWORK,tcp),(DST-PORT,80))),a\n'), '');
});
