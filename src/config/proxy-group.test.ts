import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { createGroupRegistry } from '../group/index.js';
import { loadConfig } from './load.js';
import { providerDialerCycle } from './proxy-group.js';

// a protocol whose schema needs only name and type, so proxies are one line each
const registry = new ProxyRegistry().register({
  type: 'stub',
  schema: z.object({ name: z.string(), type: z.literal('stub') }),
  create() {
    throw new Error('not used in config tests');
  },
});
const load = (text: string) => loadConfig(text, { registry, groupTypes: createGroupRegistry().schemas() });
const PROXIES = 'proxies:\n  - { name: a, type: stub }\n  - { name: b, type: stub }\n';

function errorsOf(text: string): readonly ConfigIssue[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected the config to be refused');
}

describe('proxy-groups', () => {
  it('reads select groups whose members are proxies, groups (also later ones) and built-ins', () => {
    const { config, warnings } = load(`${PROXIES}proxy-groups:
  - { name: first, type: select, proxies: [second, a, DIRECT, REJECT, REJECT-DROP, PASS] }
  - { name: second, type: select, proxies: [b], url: http://x/, interval: 300, hidden: true }
  - { name: GLOBAL, type: select, proxies: [first, a] }
  - { name: 2024, type: select, proxies: [a] }
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      config.proxyGroups.map((g) => [g.name, g.type, g.proxies, g.path, g.line]),
      [
        ['first', 'select', ['second', 'a', 'DIRECT', 'REJECT', 'REJECT-DROP', 'PASS'], 'proxy-groups[0]', 5],
        ['second', 'select', ['b'], 'proxy-groups[1]', 6],
        ['GLOBAL', 'select', ['first', 'a'], 'proxy-groups[2]', 7],
        ['2024', 'select', ['a'], 'proxy-groups[3]', 8],
      ],
    );
  });

  const regexError = (source: string): string => {
    try {
      new RegExp(source);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${source} is a valid regular expression`);
  };

  it('reports unknown types, providers, empty and missing members, bad options', () => {
    const issues = errorsOf(`${PROXIES}proxy-groups:
  - { name: t, type: url-test, proxies: [a], tolerance: soon }
  - { name: l, type: load-balance, proxies: [a], strategy: random }
  - { name: w, type: weird, proxies: [a] }
  - { name: u, type: select, use: [provider1] }
  - { name: e, type: select, proxies: [] }
  - { name: n, type: select }
  - { name: m, type: select, proxies: [a, nope, GLOBAL] }
  - { name: f, type: fallback, proxies: [a], filter: "(", expected-status: 20x, url: ftp://x }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['proxy-groups[0].tolerance', 5, 'expected an integer'],
        ['proxy-groups[1].strategy', 6, 'unsupported strategy: expected one of consistent-hashing, round-robin, sticky-sessions'],
        ['proxy-groups[2].type', 7, 'unknown group type weird (group "w")'],
        ['proxy-groups[3].use[0]', 8, 'proxy provider "provider1" not found (group "u")'],
        ['proxy-groups[4].proxies', 9, '`use` or `proxies` missing (group "e")'],
        ['proxy-groups[5].proxies', 10, '`use` or `proxies` missing (group "n")'],
        ['proxy-groups[6].proxies[1]', 11, 'proxy "nope" not found (group "m")'],
        ['proxy-groups[6].proxies[2]', 11, 'proxy "GLOBAL" not found (group "m")'],
        // the engine's own wording (V8: "/(/: Unterminated group", JavaScriptCore: "missing )")
        ['proxy-groups[7].filter', 12, `filter: ${regexError('(')} (group "f")`],
        ['proxy-groups[7].expected-status', 12, issues[9]?.message],
        ['proxy-groups[7].url', 12, 'url "ftp://x" is not an http(s) URL (group "f")'],
      ],
    );
  });

  it('reads every group key; include-all takes the proxies filter keeps, sorted; an empty result is COMPATIBLE', () => {
    const { config, warnings } = load(`proxies:
  - { name: hk-2, type: stub }
  - { name: us-1, type: stub }
  - { name: hk-1, type: stub }
proxy-groups:
  - name: auto
    type: url-test
    proxies: [us-1]
    include-all-proxies: true
    filter: "(?i)HK"
    exclude-filter: "-2$"
    exclude-type: Shadowsocks|Vmess
    url: http://127.0.0.1/generate_204
    interval: 60
    timeout: 800
    lazy: false
    max-failed-times: 3
    tolerance: 50
    expected-status: 204
    disable-udp: true
    hidden: true
    icon: http://icon/
  - { name: none, type: fallback, include-all: true, filter: nothing }
  - { name: lb, type: load-balance, proxies: [hk-1], strategy: round-robin, interface-name: eth0 }
`);
    assert.deepEqual(warnings.map((w) => w.message), ['group option interface-name is deprecated in mihomo (set it on the proxy), ignored (group "lb")']);
    const [auto, none, lb] = config.proxyGroups;
    assert.deepEqual(auto.proxies, ['us-1', 'hk-1', 'hk-2']);
    assert.deepEqual(
      [auto.url, auto.interval, auto.timeout, auto.lazy, auto.maxFailedTimes, auto.expectedStatus, auto.disableUdp, auto.hidden, auto.icon, auto.excludeFilter, auto.excludeType, auto.options.tolerance],
      ['http://127.0.0.1/generate_204', 60, 800, false, 3, '204', true, true, 'http://icon/', '-2$', 'Shadowsocks|Vmess', 50],
    );
    assert.deepEqual(none.proxies, ['COMPATIBLE']);
    assert.equal(lb.options.strategy, 'round-robin');
  });

  it('refuses duplicate, reserved and proxy-clashing names, and missing fields', () => {
    const issues = errorsOf(`${PROXIES}proxy-groups:
  - { name: g, type: select, proxies: [a] }
  - { name: g, type: select, proxies: [b] }
  - { name: a, type: select, proxies: [b] }
  - { name: DIRECT, type: select, proxies: [b] }
  - { type: select, proxies: [b] }
  - { name: x, proxies: [b] }
  - [not, a, mapping]
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['proxy-groups[1].name', 6, 'duplicate group name "g"'],
        ['proxy-groups[2].name', 7, 'group name "a" is already a proxy name'],
        ['proxy-groups[3].name', 8, 'group name DIRECT is reserved'],
        ['proxy-groups[4].name', 9, 'missing'],
        ['proxy-groups[5].type', 10, 'missing type (group "x")'],
        ['proxy-groups[6]', 11, 'expected a mapping'],
      ],
    );
  });

  it('reports reference cycles, including a group naming itself', () => {
    const issues = errorsOf(`${PROXIES}proxy-groups:
  - { name: x, type: select, proxies: [y, a] }
  - { name: y, type: select, proxies: [z] }
  - { name: z, type: select, proxies: [b, x] }
  - { name: self, type: select, proxies: [self] }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['proxy-groups[0]', 5, 'group reference cycle: x -> y -> z -> x'],
        ['proxy-groups[3]', 8, 'group reference cycle: self -> self'],
      ],
    );
  });

  it('handles a long chain of groups without recursion trouble', () => {
    const n = 2000;
    const lines = ['proxy-groups:'];
    for (let i = 0; i < n; i++) lines.push(`  - { name: g${i}, type: select, proxies: [${i + 1 < n ? `g${i + 1}` : 'DIRECT'}] }`);
    const { config } = load(lines.join('\n'));
    assert.equal(config.proxyGroups.length, n);
    const cyclic = lines.join('\n').replace('proxies: [DIRECT]', 'proxies: [g0]');
    const issues = errorsOf(cyclic);
    assert.equal(issues.length, 1);
    assert.match(issues[0].message, /^group reference cycle: g0 -> g1 -> /);
  });
});

describe('providerDialerCycle', () => {
  it('finds the path back to the provider through groups, their providers and dialer-proxies', () => {
    const graph = {
      groups: [
        { name: 'uses-p', proxies: [], use: ['p'] },
        { name: 'outer', proxies: ['a'] },
        { name: 'uses-q', proxies: ['DIRECT'], use: ['q'] },
      ],
      proxies: [{ name: 'a', dialerProxy: 'uses-p' }, { name: 'b' }],
      providers: [{ name: 'p', dialerProxy: 'outer' }, { name: 'q', dialerProxy: 'uses-p' }],
    };
    assert.deepEqual(providerDialerCycle('p', 'outer', graph), ['provider p', 'outer', 'a', 'uses-p', 'provider p']);
    assert.deepEqual(providerDialerCycle('p', 'uses-q', graph), ['provider p', 'uses-q', 'provider q', 'uses-p', 'provider p']);
    assert.equal(providerDialerCycle('p', 'b', graph), undefined);
    assert.equal(providerDialerCycle('p', 'DIRECT', graph), undefined);
    assert.equal(providerDialerCycle('q', 'nowhere', graph), undefined);
    // the built-in GLOBAL may pick any group, so through it too
    assert.deepEqual(providerDialerCycle('p', 'GLOBAL', graph), ['provider p', 'GLOBAL', 'uses-p', 'provider p']);
  });

  it('is bounded on a long chain and on a dense graph (each node visited once)', () => {
    const n = 20_000;
    const groups = Array.from({ length: n }, (_, i) => ({ name: `g${i}`, proxies: [`g${i + 1}`, `g${(i * 7) % n}`, `g${(i * 13) % n}`], ...(i === n - 1 && { use: ['p'] }) }));
    const path = providerDialerCycle('p', 'g0', { groups, proxies: [], providers: [{ name: 'p' }] });
    assert.ok(path && path[0] === 'provider p' && path.at(-1) === 'provider p' && path.includes(`g${n - 1}`));
    assert.equal(providerDialerCycle('other', 'g0', { groups, proxies: [], providers: [] }), undefined);
  });
});
