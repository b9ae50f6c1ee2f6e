import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig } from './load.js';

// a protocol whose schema needs only name and type, so proxies are one line each
const registry = new ProxyRegistry().register({
  type: 'stub',
  schema: z.object({ name: z.string(), type: z.literal('stub') }),
  create() {
    throw new Error('not used in config tests');
  },
});
const load = (text: string) => loadConfig(text, { registry });
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

  it('reports unsupported and unknown types, providers, empty and missing members', () => {
    const issues = errorsOf(`${PROXIES}proxy-groups:
  - { name: t, type: url-test, proxies: [a] }
  - { name: f, type: fallback, proxies: [a] }
  - { name: l, type: load-balance, proxies: [a] }
  - { name: r, type: relay, proxies: [a, b] }
  - { name: w, type: weird, proxies: [a] }
  - { name: u, type: select, use: [provider1] }
  - { name: e, type: select, proxies: [] }
  - { name: n, type: select }
  - { name: m, type: select, proxies: [a, nope, GLOBAL] }
  - { name: i, type: select, include-all: true, filter: HK }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['proxy-groups[0].type', 5, 'group type url-test not supported yet (group "t")'],
        ['proxy-groups[1].type', 6, 'group type fallback not supported yet (group "f")'],
        ['proxy-groups[2].type', 7, 'group type load-balance not supported yet (group "l")'],
        ['proxy-groups[3].type', 8, 'group type relay not supported yet (group "r")'],
        ['proxy-groups[4].type', 9, 'unknown group type weird (group "w")'],
        ['proxy-groups[5].use[0]', 10, 'provider "provider1" not found (group "u")'],
        ['proxy-groups[6].proxies', 11, 'group has no proxies (group "e")'],
        ['proxy-groups[7].proxies', 12, 'group has no proxies (group "n")'],
        ['proxy-groups[8].proxies[1]', 13, 'proxy "nope" not found (group "m")'],
        ['proxy-groups[8].proxies[2]', 13, 'proxy "GLOBAL" not found (group "m")'],
        ['proxy-groups[9].include-all', 14, 'group option include-all not supported yet (group "i")'],
        ['proxy-groups[9].filter', 14, 'group option filter not supported yet (group "i")'],
        ['proxy-groups[9].proxies', 14, 'group has no proxies (group "i")'],
      ],
    );
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
