import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry } from '../protocol/index.js';
import { payloadMappings, selectProxies } from './payload.js';

const registry = createRegistry();
const socks = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'socks5', server: '127.0.0.1', port: 1080, ...extra });
const base = { name: 'sub', filter: [] as string[], excludeFilter: '', excludeType: [] as string[], override: {} };
const pick = (mappings: unknown[], p: Partial<typeof base> & { override?: Record<string, unknown> } = {}, taken = new Set<string>()) =>
  selectProxies(mappings, { ...base, ...p }, registry, taken, ['proxy-providers', 'sub', 'proxies']);

describe('provider payloads', () => {
  it('reads YAML with a proxies list, base64 and plain share links; refuses anything else', () => {
    assert.equal(payloadMappings('proxies:\n  - { name: a, type: socks5, server: h, port: 1 }\n').mappings.length, 1);
    const link = 'trojan://pw@h.example:443#t';
    assert.equal(payloadMappings(Buffer.from(link).toString('base64')).mappings.length, 1);
    assert.equal(payloadMappings(`${link}\n`).mappings.length, 1);
    assert.throws(() => payloadMappings('rules: []\n'), /no `proxies` list/);
    assert.throws(() => payloadMappings('just some words'), /neither YAML/);
  });

  it('filters as mihomo: any of the backquote-separated filters, in filter order, exclude-filter and exclude-type first', () => {
    const m = [socks('HK 1'), socks('JP 1'), { name: 'HK ss', type: 'ss', server: 'h', port: 1, cipher: 'aes-128-gcm', password: 'p' }, socks('US 1'), socks('hk 2')];
    assert.deepEqual(pick(m, { filter: ['JP', '(?i)hk'] }).proxies.map((p) => p.name), ['JP 1', 'HK 1', 'HK ss', 'hk 2']);
    assert.deepEqual(pick(m, { excludeFilter: 'US|JP' }).proxies.map((p) => p.name), ['HK 1', 'HK ss', 'hk 2']);
    assert.deepEqual(pick(m, { excludeType: ['ss'], filter: ['HK'] }).proxies.map((p) => p.name), ['HK 1']);
  });

  it('overrides keys, prefixes, suffixes and renames, then makes names unique', () => {
    const m = [socks('a'), socks('b', { udp: false }), socks('a'), socks('DIRECT')];
    const r = pick(m, { override: { udp: true, 'additional-prefix': '[s] ', 'additional-suffix': ' !', 'proxy-name': [{ pattern: '^\\[s\\] b', target: 'bee' }] } }, new Set(['[s] a !-2']));
    assert.deepEqual(r.proxies.map((p) => p.name), ['[s] a !', 'bee !', '[s] a !-3', '[s] DIRECT !']);
    assert.ok(r.proxies.every((p) => (p.options as { udp?: boolean }).udp === true));
    assert.deepEqual(r.warnings, ['proxy "[s] a !" renamed "[s] a !-3" (the name is taken)']);
    // a reserved name and a config proxy's name get another
    const r2 = pick([socks('DIRECT'), socks('mine')], {}, new Set(['mine']));
    assert.deepEqual(r2.proxies.map((p) => p.name), ['DIRECT-sub', 'mine-2']);
  });

  it('skips a bad entry with a warning naming it; the others load', () => {
    const r = pick([socks('ok1'), { name: 'bad', type: 'socks5', server: 'h', port: 'x' }, 'scalar', { name: 'w', type: 'wireguard' }, { name: 'u', type: 'nope' }, socks('ok2')]);
    assert.deepEqual(r.proxies.map((p) => p.name), ['ok1', 'ok2']);
    assert.equal(r.warnings.length, 4, r.warnings.join('\n'));
    assert.match(r.warnings.join('\n'), /proxies\[1\]\.port/);
    assert.match(r.warnings.join('\n'), /proxy type wireguard not supported yet/);
    assert.match(r.warnings.join('\n'), /unknown proxy type nope/);
  });
});
