import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig } from './load.js';

const registry = new ProxyRegistry().register({
  type: 'fake',
  schema: z.object({ name: z.string(), type: z.literal('fake'), server: z.string(), port: z.number().int() }),
  create() {
    throw new Error('not used in config tests');
  },
});

/** Loads; passes when it succeeds or throws ConfigError with at least one issue. */
function survives(text: string): void {
  try {
    loadConfig(text, { registry });
  } catch (err) {
    if (!(err instanceof ConfigError)) assert.fail(`non-ConfigError for ${JSON.stringify(text.slice(0, 80))}: ${String(err)}`);
    assert.ok(err.issues.length > 0);
  }
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEMPLATE = `mixed-port: 7890
allow-lan: true
base: &b { type: fake, server: s.example, port: 443 }
proxies:
  - { name: a, <<: *b }
  - name: "b"
    <<: *b
    port: 8443
proxy-groups:
  - { name: G, type: select, proxies: [a, b, DIRECT] }
listeners:
  - { name: in, type: socks, listen: 127.0.0.1, port: 0, users: [{ username: u, password: p }] }
inbound: { http: { listen: "127.0.0.1:0" } }
rules:
  - AND,((DOMAIN,x),(NETWORK,UDP)),G
  - 'DOMAIN-REGEX,^a{1,3}$,DIRECT'
  - MATCH,G
`;

describe('hostile input never escapes as anything but ConfigError', () => {
  it('the template itself loads', () => {
    const { config } = loadConfig(TEMPLATE, { registry });
    assert.equal(config.proxies.length, 2);
  });

  it('every truncation of a template', () => {
    for (let i = 0; i <= TEMPLATE.length; i++) survives(TEMPLATE.slice(0, i));
  });

  it('random single-character mutations of a template', () => {
    const r = rng(1);
    const alphabet = ':-,[]{}&*<|>!%@`\'"#?\n \t\\0aZ9';
    for (let n = 0; n < 600; n++) {
      const at = Math.floor(r() * TEMPLATE.length);
      const c = alphabet[Math.floor(r() * alphabet.length)];
      survives(TEMPLATE.slice(0, at) + c + TEMPLATE.slice(at + 1));
    }
  });

  it('random bytes and random YAML-ish token soup', () => {
    const r = rng(2);
    const tokens = ['proxies:', 'rules:', '- ', '  ', '\n', '<<: ', '*a', '&a ', '{', '}', '[', ']', ',', 'name: x', 'type: fake', 'null', '~', '1e999', '"', "'", '!!binary', '? ', '---', '...', '__proto__: 1', 'constructor:', 'listeners:', 'proxy-groups:'];
    for (let n = 0; n < 800; n++) {
      const len = Math.floor(r() * 200);
      let bytes = '';
      for (let i = 0; i < len; i++) bytes += String.fromCharCode(Math.floor(r() * 0x3000));
      survives(bytes);
      let soup = '';
      for (let i = 0; i < 40; i++) soup += tokens[Math.floor(r() * tokens.length)];
      survives(soup);
    }
  });

  it('odd shapes in every section', () => {
    const values = ['null', '1', 'true', '"s"', '[]', '{}', '[1, [2]]', '{a: {b: c}}', '[{}]', '[null]', '[[]]'];
    const keys = ['mode', 'authentication', 'lan-allowed-ips', 'dns', 'listeners', 'inbound', 'proxies', 'proxy-groups', 'rules', 'mixed-port', 'secret', 'tun', 'external-controller', '__proto__', 'constructor'];
    for (const k of keys) for (const v of values) survives(`${k}: ${v}\n`);
    for (const v of values) survives(`proxies:\n  - { name: a, type: fake, server: ${v}, port: ${v} }\n`);
    for (const v of values) survives(`proxy-groups:\n  - { name: ${v}, type: select, proxies: ${v} }\n`);
    for (const v of values) survives(`listeners:\n  - { name: ${v}, type: mixed, users: ${v}, listen: ${v} }\n`);
  });

  it('oversized, deeply nested and alias-bomb documents', () => {
    survives('a: ' + 'x'.repeat(65 * 1024 * 1024));
    survives('['.repeat(20000) + ']'.repeat(20000));
    survives('a:\n' + Array.from({ length: 3000 }, (_, i) => ' '.repeat(i + 1) + '- ').join('\n'));
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) bomb.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    assert.throws(() => loadConfig(bomb.join('\n'), { registry }), (e: unknown) => e instanceof ConfigError && /alias/i.test(e.message));
    // one anchor merged hundreds of times, as real templates do, is fine
    const many = ['p: &p { type: fake, server: s, port: 1 }', 'proxies:'];
    for (let i = 0; i < 500; i++) many.push(`  - { name: n${i}, <<: *p }`);
    assert.equal(loadConfig(many.join('\n'), { registry }).config.proxies.length, 500);
  });

  it('a huge number of errors is capped, not unbounded', () => {
    const lines = ['rules:'];
    for (let i = 0; i < 20000; i++) lines.push(`  - DOMAIN,d${i}.com,nowhere`);
    try {
      loadConfig(lines.join('\n'), { registry });
      assert.fail('expected refusal');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.issues.length <= 201);
      assert.match(err.issues[err.issues.length - 1].message, /and 19800 more errors/);
    }
  });
});
