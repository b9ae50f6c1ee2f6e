import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig } from './load.js';

/** A registry with one fake protocol, `fake`, whose schema checks server/port/cipher. */
function fakeRegistry(): ProxyRegistry {
  return new ProxyRegistry().register({
    type: 'fake',
    schema: z.object({
      name: z.string(),
      type: z.literal('fake'),
      server: z.string(),
      port: z.number().int().min(1).max(65535),
      cipher: z.enum(['aes-128-gcm', 'chacha20-ietf-poly1305']),
      udp: z.boolean().default(false),
    }),
    create() {
      throw new Error('not used in config tests');
    },
  });
}

const load = (text: string) => loadConfig(text, { registry: fakeRegistry() });

function errorsOf(text: string): readonly ConfigIssue[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected the config to be refused');
}

describe('proxies', () => {
  it('dialer-proxy: a name that exists, and no proxy dialing through itself', () => {
    const issues = errorsOf(`
proxies:
  - { name: a, type: fake, server: x, port: 1, cipher: aes-128-gcm, dialer-proxy: b }
  - { name: c, type: fake, server: x, port: 1, cipher: aes-128-gcm, dialer-proxy: g }
  - { name: d, type: fake, server: x, port: 1, cipher: aes-128-gcm, dialer-proxy: d }
proxy-groups:
  - { name: g, type: select, proxies: [c, DIRECT] }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['proxies[0].dialer-proxy', 3, 'dialer-proxy "b" not found (proxy "a")'],
        ['proxies[1].dialer-proxy', 4, 'dialer-proxy cycle: c -> g -> c'],
        ['proxies[2].dialer-proxy', 5, 'dialer-proxy cycle: d -> d'],
      ],
    );
    const { config } = load(`
proxies:
  - { name: a, type: fake, server: x, port: 1, cipher: aes-128-gcm, dialer-proxy: g }
  - { name: b, type: fake, server: x, port: 1, cipher: aes-128-gcm }
proxy-groups:
  - { name: g, type: select, proxies: [b] }
`);
    assert.equal(config.proxies[0].dialerProxy, 'g');
  });

  it('validates a registered type with its schema and keeps its output', () => {
    const { config } = load(`
proxies:
  - name: hk-01
    type: fake
    server: hk.example
    port: 443
    cipher: aes-128-gcm
`);
    assert.equal(config.proxies.length, 1);
    const p = config.proxies[0];
    assert.equal(p.name, 'hk-01');
    assert.equal(p.type, 'fake');
    assert.equal(p.path, 'proxies[0]');
    assert.equal(p.line, 3);
    assert.deepEqual(p.options, { name: 'hk-01', type: 'fake', server: 'hk.example', port: 443, cipher: 'aes-128-gcm', udp: false });
    assert.ok(Object.isFrozen(p.options));
  });

  it('maps schema issues to field paths and lines', () => {
    const issues = errorsOf(`
proxies:
  - name: a
    type: fake
    server: s
    port: 99999
    cipher: rot13
`);
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['proxies[0].port', 6], ['proxies[0].cipher', 7]]);
    assert.match(issues[1].message, /aes-128-gcm/);
  });

  it('reports types mihomo has but we lack, and unknown types, naming the proxy', () => {
    const issues = errorsOf('proxies:\n  - { name: a, type: ss }\n  - { name: b, type: teleport }\n');
    assert.deepEqual(issues, [
      { path: 'proxies[0].type', line: 2, message: 'proxy type ss not supported yet (proxy "a")' },
      { path: 'proxies[1].type', line: 3, message: 'unknown proxy type teleport (proxy "b")' },
    ]);
  });

  it('requires name and type, unique names, no reserved names', () => {
    const issues = errorsOf(`
proxies:
  - { type: fake }
  - { name: x }
  - { name: DIRECT, type: fake }
  - { name: GLOBAL, type: fake }
  - { name: y, type: fake, server: s, port: 1, cipher: aes-128-gcm }
  - { name: y, type: fake, server: s, port: 2, cipher: aes-128-gcm }
  - 42
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['proxies[0].name', 3, 'missing'],
        ['proxies[1].type', 4, 'missing'],
        ['proxies[2].name', 5, 'proxy name DIRECT is reserved'],
        ['proxies[3].name', 6, 'proxy name GLOBAL is reserved'],
        ['proxies[5].name', 8, 'duplicate proxy name "y" (also proxies[4])'],
        ['proxies[6]', 9, 'expected a mapping'],
      ],
    );
  });

  it('refuses proxies that is not a list', () => {
    assert.deepEqual(errorsOf('proxies: { a: 1 }\n'), [{ path: 'proxies', line: 1, message: 'expected a list' }]);
  });
});

describe('a real-world-like template with anchors and << merges', () => {
  const TEMPLATE = `
# subscription-converter style template
mixed-port: 7890
allow-lan: true
mode: Rule
log-level: info
external-controller: :9090

p: &p { type: fake, udp: true, cipher: chacha20-ietf-poly1305 }
g: &g { type: select, url: https://www.gstatic.com/generate_204, interval: 300, lazy: true }

proxies:
  - { name: hk-01, server: hk1.example, port: 443, <<: *p }
  - { name: hk-02, server: hk2.example, port: 8443, <<: *p, udp: false }
  - name: jp-01
    <<: *p
    server: jp.example
    port: 443

proxy-groups:
  - { name: Proxy, <<: *g, proxies: [HK, jp-01, DIRECT] }
  - { name: HK, <<: *g, proxies: [hk-01, hk-02] }
  - name: Final
    <<: [*g]
    proxies: [Proxy, DIRECT, REJECT]

rules:
  - DOMAIN-SUFFIX,google.com,Proxy
  - domain-keyword,youtube,HK
  - IP-CIDR,10.0.0.0/8,DIRECT,no-resolve
  - AND,((DOMAIN,ads.example),(NETWORK,UDP)),REJECT
  - GEOIP,CN,DIRECT
  - MATCH,Final
`;

  it('loads, with merged fields, own keys winning over merged ones', () => {
    const { config, warnings } = load(TEMPLATE);
    assert.deepEqual(warnings.map((w) => w.message), ['unknown key p, ignored', 'unknown key g, ignored']);
    assert.equal(config.general.mode, 'rule');
    assert.equal(config.general.externalController, ':9090');
    assert.deepEqual(config.listeners.map((l) => [l.name, l.listen, l.port]), [['DEFAULT-MIXED', '::', 7890]]);
    assert.deepEqual(
      config.proxies.map((p) => [p.name, p.options]),
      [
        ['hk-01', { name: 'hk-01', type: 'fake', server: 'hk1.example', port: 443, cipher: 'chacha20-ietf-poly1305', udp: true }],
        ['hk-02', { name: 'hk-02', type: 'fake', server: 'hk2.example', port: 8443, cipher: 'chacha20-ietf-poly1305', udp: false }],
        ['jp-01', { name: 'jp-01', type: 'fake', server: 'jp.example', port: 443, cipher: 'chacha20-ietf-poly1305', udp: true }],
      ],
    );
    assert.deepEqual(
      config.proxyGroups.map((g) => [g.name, g.type, g.proxies, g.line]),
      [
        ['Proxy', 'select', ['HK', 'jp-01', 'DIRECT'], 21],
        ['HK', 'select', ['hk-01', 'hk-02'], 22],
        ['Final', 'select', ['Proxy', 'DIRECT', 'REJECT'], 23],
      ],
    );
    assert.deepEqual(
      config.rules.map((r) => [r.type, r.payload, r.target, r.params, r.path, r.line]),
      [
        ['DOMAIN-SUFFIX', 'google.com', 'Proxy', [], 'rules[0]', 28],
        ['DOMAIN-KEYWORD', 'youtube', 'HK', [], 'rules[1]', 29],
        ['IP-CIDR', '10.0.0.0/8', 'DIRECT', ['no-resolve'], 'rules[2]', 30],
        ['AND', '((DOMAIN,ads.example),(NETWORK,UDP))', 'REJECT', [], 'rules[3]', 31],
        ['GEOIP', 'CN', 'DIRECT', [], 'rules[4]', 32],
        ['MATCH', '', 'Final', [], 'rules[5]', 33],
      ],
    );
  });

  it('points an error in a merged field at the anchor line', () => {
    const bad = TEMPLATE.replace('cipher: chacha20-ietf-poly1305', 'cipher: rot13');
    const issues = errorsOf(bad);
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['proxies[0].cipher', 9], ['proxies[1].cipher', 9], ['proxies[2].cipher', 9]]);
  });

  it('reports many errors at once, in file order', () => {
    const bad = TEMPLATE.replace('mode: Rule', 'mode: fancy')
      .replace('port: 8443', 'port: 0')
      .replace('[HK, jp-01, DIRECT]', '[HK, jp-02, DIRECT]')
      .replace('youtube,HK', 'youtube,HKG')
      .replace('- { name: HK, <<: *g,', '- { name: HK, <<: *g, use: [sub],');
    const issues = errorsOf(bad);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [
        ['mode', 5],
        ['proxies[1].port', 14],
        ['proxy-groups[0].proxies[1]', 21],
        ['proxy-groups[1].use[0]', 22],
        ['rules[1]', 29],
      ],
    );
    assert.match(issues[2].message, /proxy "jp-02" not found \(group "Proxy"\)/);
    assert.match(issues[3].message, /provider "sub" not found \(group "HK"\)/);
    assert.equal(issues[4].message, 'unknown target "HKG"');
  });
});
