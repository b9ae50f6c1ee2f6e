/**
 * Cross-check of the mrs reader and writer against real files from a public rule repository
 * (fixtures/README.md): every file reads, and writing what we read gives back the very same
 * bytes after decompression (the succinct trie and the range list laid out exactly).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HashedDomainSet } from '../../src/rule-provider/domain-set.js';
import { readMrs, writeMrs, zstdDecompress } from '../../src/rule-provider/mrs.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}.mrs`, import.meta.url));

test('real domain mrs files: read, and rebuilt byte for byte', () => {
  for (const [name, count] of [['geosite-private', 130], ['geosite-claude', 3]] as const) {
    const real = fixture(name);
    const got = readMrs(real, 'domain');
    assert.equal(got.count, count, name);
    assert.equal([...got.domains!.keys()].length, count, name);
    // our writer, fed what we read, lays the trie out exactly as the file does
    const again = writeMrs({ behavior: 'domain', count: got.count, domains: got.domains! });
    assert.ok(zstdDecompress(again).equals(zstdDecompress(real)), name);
  }
  const claude = readMrs(fixture('geosite-claude'), 'domain').domains!;
  assert.deepEqual([...claude.keys()].sort(), ['+.anthropic.com', '+.claude.ai', 'cdn.usefathom.com']);
  assert.equal(claude.has('api.anthropic.com'), true);
  assert.equal(claude.has('cdn.usefathom.com'), true);
  assert.equal(claude.has('usefathom.com'), false);
  // these files hold `+.x` alone for a DOMAIN-SUFFIX (mihomo's writer adds an `x` key beside it):
  // read as x and every name under it, so the base names match
  assert.equal(claude.has('claude.ai'), true);
  assert.equal(readMrs(fixture('geosite-private'), 'domain').domains!.has('home.arpa'), true);
  const built = new HashedDomainSet();
  for (const k of ['+.claude.ai', '+.anthropic.com', 'cdn.usefathom.com']) built.insert(k);
  const ours = zstdDecompress(writeMrs({ behavior: 'domain', count: 3, domains: built }));
  // from `+.x` entries our writer also sets the exact keys (as mihomo's trie does): the same
  // trie, other leaf bits
  const real = zstdDecompress(fixture('geosite-claude'));
  assert.equal(ours.length, real.length);
  assert.ok(!ours.equals(real));
});

test('real ipcidr mrs files: read, and rebuilt byte for byte', () => {
  for (const [name, count] of [['geoip-private', 18], ['geoip-check', 2]] as const) {
    const real = fixture(name);
    const got = readMrs(real, 'ipcidr');
    assert.equal(got.count, count, name);
    const again = writeMrs({ behavior: 'ipcidr', count: got.count, ips: got.ips! });
    assert.ok(zstdDecompress(again).equals(zstdDecompress(real)), name);
  }
  const priv = readMrs(fixture('geoip-private'), 'ipcidr').ips!;
  for (const ip of ['10.1.2.3', '192.168.0.1', '127.0.0.1', '100.64.0.1', 'fe80::1']) assert.equal(priv.has(ip), true, ip);
  for (const ip of ['8.8.8.8', '2001:4860::8888']) assert.equal(priv.has(ip), false, ip);
  assert.equal(readMrs(fixture('geoip-check'), 'ipcidr').ips!.has('142.251.215.9'), true);
});
