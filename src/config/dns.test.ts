import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDns, parseNameserver } from './dns.js';
import { Issues } from './issues.js';

const parse = (raw: unknown, top: Record<string, unknown> = {}) => {
  const issues = new Issues(() => undefined);
  const dns = parseDns(raw, issues, top);
  return { dns, errors: issues.errors().map((e) => `${e.path}: ${e.message}`), warnings: issues.warnings().map((w) => w.message) };
};

describe('dns nameserver entries (mihomo parseNameServer)', () => {
  test('schemes, default ports, fragments', () => {
    const p = (s: string, rr = false) => parseNameserver(s, 0, rr);
    assert.deepEqual([p('1.2.3.4').net, p('1.2.3.4').port], ['udp', 53]);
    assert.deepEqual([p('2001:db8::1').host, p('2001:db8::1').port], ['2001:db8::1', 53]);
    assert.deepEqual([p('[2001:db8::1]:5353').host, p('[2001:db8::1]:5353').port], ['2001:db8::1', 5353]);
    assert.equal(p('tcp://1.2.3.4').port, 53);
    assert.equal(p('tls://dns.example').port, 853);
    const doh = p('https://dns.example/dns-query#PROXY&ecs=1.2.3.0/24&skip-cert-verify=true');
    assert.equal(doh.net, 'https');
    assert.equal(doh.url, 'https://dns.example:443/dns-query');
    assert.equal(doh.proxy, 'PROXY');
    assert.deepEqual(doh.ecs, { ip: '1.2.3.0', prefix: 24 });
    assert.equal(doh.skipCertVerify, true);
    assert.equal(p('https://dns.example').url, 'https://dns.example:443/dns-query');
    assert.equal(p('8.8.8.8#grp').proxy, 'grp');
    assert.equal(p('8.8.8.8', true).proxy, 'RULES', 'respect-rules');
    assert.equal(p('system').net, 'system');
    assert.equal(p('rcode://refused').url, 'refused');
  });

  test('bad entries are errors worded as mihomo', () => {
    assert.throws(() => parseNameserver('rcode://nope', 0, false), /unsupported RCode type: nope/);
    assert.throws(() => parseNameserver('ftp://x', 2, false), /DNS NameServer\[2\] unsupport scheme: ftp/);
    assert.throws(() => parseNameserver('quic://x', 0, false), /not supported in clash-ts/);
    assert.throws(() => parseNameserver('1.2.3.4#ecs=zzz', 0, false), /invalid ecs/);
  });
});

describe('parseDns', () => {
  test('defaults as mihomo', () => {
    const { dns, errors } = parse(undefined);
    assert.deepEqual(errors, []);
    assert.equal(dns!.enable, false);
    assert.equal(dns!.ipv6, false);
    assert.equal(dns!.ipv6TimeoutMs, 100);
    assert.equal(dns!.useHosts, true);
    assert.equal(dns!.enhancedMode, 'redir-host');
    assert.equal(dns!.fakeIpRange, '198.18.0.1/16');
    assert.equal(dns!.fakeIpFilterMode, 'blacklist');
    assert.equal(dns!.fallbackFilter.geoip, true);
    assert.equal(dns!.fallbackFilter.geoipCode, 'cn');
    assert.deepEqual(dns!.hosts, [{ pattern: 'localhost', ips: ['127.0.0.1'] }]);
  });

  test('mihomo errors: empty nameserver, respect-rules without proxy-server-nameserver, default-nameserver not an IP', () => {
    assert.match(parse({ enable: true }).errors.join(), /NameServer cannot be empty/);
    assert.match(parse({ enable: true, nameserver: ['1.1.1.1'], 'respect-rules': true }).errors.join(), /proxy-server-nameserver” cannot be empty/);
    assert.match(parse({ enable: true, nameserver: ['1.1.1.1'], 'default-nameserver': ['tls://dns.example'] }).errors.join(), /default nameserver should be pure IP/);
    assert.match(parse({ enable: true, nameserver: ['1.1.1.1'], 'default-nameserver': [] }).errors.join(), /at least one nameserver/);
    assert.match(parse({ 'enhanced-mode': 'bogus' }).errors.join(), /dns\.enhanced-mode/);
    assert.match(parse({ 'fake-ip-range': '300.1.1.1/16' }).errors.join(), /invalid fake-ip-range/);
    assert.match(parse({ 'fallback-filter': { ipcidr: ['nope'] } }).errors.join(), /DNS FallbackIP\[0\] format error/);
    assert.match(parse({ listen: 'nope' }).errors.join(), /invalid listen address/);
  });

  test('quic:// is skipped and dhcp:// becomes system, each with one warning; a list left empty is still an error', () => {
    const r = parse({ enable: true, nameserver: ['quic://dns.example', '1.1.1.1', 'quic://other.example:853', 'dhcp://eth0'], fallback: ['quic://f.example'] });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.dns!.nameserver.map((n) => n.net), ['udp', 'system']);
    assert.deepEqual(r.dns!.fallback, []);
    assert.equal(r.warnings.filter((w) => /DNS over QUIC is not supported in clash-ts \(Node\.js has no QUIC\), skipped: quic:\/\/dns\.example, quic:\/\/other\.example:853$/.test(w)).length, 1, r.warnings.join('\n'));
    assert.ok(r.warnings.some((w) => w.includes('skipped: quic://f.example')));
    assert.ok(r.warnings.some((w) => w.includes('dhcp://eth0 uses the system nameservers (/etc/resolv.conf) instead')));
    assert.match(parse({ enable: true, nameserver: ['quic://only.example'] }).errors.join(), /NameServer cannot be empty/);
    assert.ok(parse({ enable: true, nameserver: ['1.1.1.1'], 'prefer-h3': true }).warnings.some((w) => /prefer-h3 is not supported in clash-ts \(Node\.js has no HTTP\/3\)/.test(w)));
  });

  test('nameserver-policy: comma keys, geosite: / rule-set: lists, lists of servers; bad domains', () => {
    const { dns } = parse({
      enable: true,
      nameserver: ['1.1.1.1'],
      'nameserver-policy': { 'a.example,+.b.example': '2.2.2.2', 'geosite:cn,private': ['3.3.3.3', 'tls://4.4.4.4'], 'rule-set:x': '5.5.5.5' },
    });
    assert.deepEqual(dns!.nameserverPolicy.map((p) => [p.key, p.servers.length]), [['a.example', 1], ['+.b.example', 1], ['geosite:cn', 2], ['geosite:private', 2], ['rule-set:x', 1]]);
    assert.match(parse({ 'nameserver-policy': { 'bad domain': '1.1.1.1' } }).errors.join(), /invalid domain/);
    assert.match(parse({ 'nameserver-policy': { 'a.example': { x: 1 } } }).errors.join(), /expected a nameserver/);
  });

  test('hosts: single, list, wildcard, alias; a cycle is an error; bad values are errors', () => {
    const { dns, errors } = parse({}, { hosts: { 'a.example': '1.2.3.4', 'b.example': ['1.2.3.5', '::5'], '+.c.example': '1.2.3.6', 'd.example': 'a.example' } });
    assert.deepEqual(errors, []);
    assert.deepEqual(dns!.hosts.slice(1), [
      { pattern: 'a.example', ips: ['1.2.3.4'] },
      { pattern: 'b.example', ips: ['1.2.3.5', '::5'] },
      { pattern: '+.c.example', ips: ['1.2.3.6'] },
      { pattern: 'd.example', ips: [], alias: 'a.example' },
    ]);
    assert.match(parse({}, { hosts: { 'x.example': 'y.example', 'y.example': 'x.example' } }).errors.join(), /there is a cycle in domain name mapping/);
    assert.match(parse({}, { hosts: { 'x.example': ['1.1.1.1', 'not an ip'] } }).errors.join(), /is not a valid value/);
    assert.match(parse({}, { hosts: 'nope' }).errors.join(), /hosts must be a mapping/);
  });

  test('random and oversized input never throws: errors or a config', () => {
    let seed = 7;
    const r = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const atoms: unknown[] = [null, 1, -1, 'x', '', true, [], {}, ['1.1.1.1'], { a: 1 }, 'a'.repeat(100_000), '1.1.1.1#' + '&'.repeat(10_000)];
    const keys = ['enable', 'nameserver', 'fallback', 'fallback-filter', 'nameserver-policy', 'hosts', 'listen', 'fake-ip-range', 'fake-ip-filter', 'default-nameserver', 'ipv6-timeout'];
    for (let i = 0; i < 2000; i++) {
      const raw: Record<string, unknown> = {};
      for (const k of keys) if (r() < 0.4) raw[k] = atoms[(r() * atoms.length) | 0];
      assert.doesNotThrow(() => parse(raw, { hosts: atoms[(r() * atoms.length) | 0] }));
    }
  });
});
