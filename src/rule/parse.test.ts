import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../core/errors.js';
import type { Rule } from '../core/rule.js';
import { MAX_LOGIC_DEPTH, parseRule, type RuleLineInput } from './parse.js';

/** Splits a line the way the config loader does (mihomo's parseRules). */
function line(raw: string): RuleLineInput {
  const f = raw.split(',').map((s) => s.trim());
  const type = f[0].toUpperCase();
  if (['AND', 'OR', 'NOT', 'DOMAIN-REGEX'].includes(type)) {
    return { raw, type, payload: f.slice(1, -1).join(','), target: f[f.length - 1], params: [] };
  }
  if (type === 'MATCH') return { raw, type, payload: '', target: f[1] ?? '', params: f.slice(2) };
  return { raw, type, payload: f[1] ?? '', target: f[2] ?? '', params: f.slice(3) };
}
const rule = (raw: string): Rule => parseRule(line(raw));

test('every supported type builds, with mihomo type names and payloads', () => {
  const cases: [string, string, string][] = [
    ['DOMAIN,Example.COM,P', 'Domain', 'example.com'],
    ['DOMAIN-SUFFIX,google.com,P', 'DomainSuffix', 'google.com'],
    ['DOMAIN-KEYWORD,Ads,P', 'DomainKeyword', 'ads'],
    ['DOMAIN-REGEX,^a{1,2}\\.com$,P', 'DomainRegex', '^a{1,2}\\.com$'],
    ['IP-CIDR,10.0.0.0/8,P', 'IPCIDR', '10.0.0.0/8'],
    ['IP-CIDR6,2001:DB8::/32,P', 'IPCIDR', '2001:db8::/32'],
    ['IP-CIDR,10.0.0.0/8,P,src', 'SrcIPCIDR', '10.0.0.0/8'],
    ['SRC-IP-CIDR,192.168.0.0/16,P', 'SrcIPCIDR', '192.168.0.0/16'],
    ['IP-SUFFIX,8.8.8.8/24,P', 'IPSuffix', '8.8.8.8/24'],
    ['IP-SUFFIX,8.8.8.8/24,P,src', 'SrcIPSuffix', '8.8.8.8/24'],
    ['SRC-IP-SUFFIX,0.0.0.1/8,P', 'SrcIPSuffix', '0.0.0.1/8'],
    ['SRC-PORT,1000-2000,P', 'SrcPort', '1000-2000'],
    ['DST-PORT,80/443,P', 'DstPort', '80/443'],
    ['IN-PORT,7890,P', 'InPort', '7890'],
    ['IN-TYPE,socks/https,P', 'InType', 'SOCKS/HTTPS'],
    ['IN-USER,alice/bob,P', 'InUser', 'alice/bob'],
    ['IN-NAME,DEFAULT-MIXED,P', 'InName', 'DEFAULT-MIXED'],
    ['NETWORK,UDP,P', 'Network', 'udp'],
    ['AND,((DOMAIN,a.com),(NETWORK,tcp)),P', 'AND', '((Domain,a.com) && (Network,tcp))'],
    ['OR,((DOMAIN,a.com),(DST-PORT,53)),P', 'OR', '((Domain,a.com) || (DstPort,53))'],
    ['NOT,((DOMAIN,a.com)),P', 'NOT', '(!(Domain,a.com))'],
    ['MATCH,P', 'Match', ''],
  ];
  for (const [raw, type, payload] of cases) {
    const r = rule(raw);
    assert.equal(r.type, type, raw);
    assert.equal(r.payload, payload, raw);
    assert.equal(r.target, 'P', raw);
  }
});

test('needsIp: destination IP rules without no-resolve/src only', () => {
  assert.equal(rule('IP-CIDR,10.0.0.0/8,P').needsIp, true);
  assert.equal(rule('IP-CIDR6,::/0,P').needsIp, true);
  assert.equal(rule('IP-SUFFIX,0.0.0.1/8,P').needsIp, true);
  assert.equal(rule('IP-CIDR,10.0.0.0/8,P,no-resolve').needsIp, false);
  assert.equal(rule('IP-CIDR,10.0.0.0/8,P,src').needsIp, false);
  assert.equal(rule('IP-SUFFIX,0.0.0.1/8,P,no-resolve').needsIp, false);
  assert.equal(rule('SRC-IP-CIDR,10.0.0.0/8,P').needsIp, false);
  assert.equal(rule('DOMAIN,a.com,P,no-resolve').needsIp, false);
  assert.equal(rule('AND,((DOMAIN,a.com),(IP-CIDR,1.0.0.0/8)),P').needsIp, true);
  assert.equal(rule('MATCH,P').needsIp, false);
});

test('params are ignored by types that take none, as in mihomo', () => {
  assert.equal(rule('DOMAIN,a.com,P,src').type, 'Domain');
  assert.equal(rule('DST-PORT,80,P,no-resolve').type, 'DstPort');
  assert.equal(rule('SRC-IP-CIDR,10.0.0.0/8,P,no-resolve').type, 'SrcIPCIDR');
});

test('unsupported and unknown types say which', () => {
  for (const t of ['DSCP']) {
    assert.throws(() => rule(`${t},x,P`), { code: 'CONFIG', message: `rule type ${t} not supported yet` });
  }
  assert.throws(() => rule('FOO,x,P'), { message: 'unknown rule type FOO' });
  assert.throws(() => rule('DOMAIN-SUFIX,x,P'), { message: 'unknown rule type DOMAIN-SUFIX' });
  assert.throws(() => parseRule({ raw: '', type: '', payload: '', target: '', params: [] }), { message: 'missing rule type' });
});

test('payload errors are clear and name the type', () => {
  assert.throws(() => rule('IP-CIDR,1.2.3/33,P'), { message: /^invalid IP-CIDR payload "1\.2\.3\/33"/ });
  assert.throws(() => rule('IP-CIDR6,zz::/8,P'), /^ProxyError: invalid IP-CIDR6 payload "zz::\/8"/);
  assert.throws(() => rule('DST-PORT,http,P'), /invalid DST-PORT payload "http"/);
  assert.throws(() => rule('NETWORK,icmp,P'), /invalid NETWORK payload "icmp"/);
  assert.throws(() => rule('IN-TYPE,mixed,P'), /invalid IN-TYPE payload "mixed"/);
  assert.throws(() => rule('DOMAIN-REGEX,(,P'), /invalid DOMAIN-REGEX payload "\("/);
  assert.throws(() => rule('AND,((DOMAIN,a.com),P'), /AND payload .* is missing a '\)'/);
});

test('logic nesting is bounded', () => {
  const nest = (n: number) => {
    let p = '((DOMAIN,a.com))';
    for (let i = 0; i < n; i++) p = `((NOT,${p}))`;
    return `NOT,${p},P`;
  };
  assert.equal(rule(nest(10)).match(
    { id: 't', network: 'tcp', inbound: { type: 'HTTP', name: 'x', port: 1 }, source: { host: '127.0.0.1', port: 1 }, destination: { host: 'a.com', port: 80 } },
    undefined,
  ), false); // 11 NOTs: odd, so a.com does not match
  assert.doesNotThrow(() => rule(nest(MAX_LOGIC_DEPTH - 1)));
  assert.throws(() => rule(nest(MAX_LOGIC_DEPTH)), /nest deeper than/);
});

test('oversized payloads: errors are short, no hang', () => {
  const huge = 'x'.repeat(1_000_000);
  const t0 = Date.now();
  for (const t of ['IP-CIDR', 'IP-SUFFIX', 'DST-PORT', 'NETWORK', 'IN-TYPE']) {
    try {
      rule(`${t},${huge},P`);
      assert.fail(`${t} accepted a huge payload`);
    } catch (err) {
      assert.ok(err instanceof ProxyError, t);
      assert.ok(err.message.length < 300, `${t}: message of ${err.message.length} chars`);
    }
  }
  // domains are not validated by mihomo either: a huge one is accepted and simply never matches
  assert.equal(rule(`DOMAIN-SUFFIX,${huge},P`).payload.length, huge.length);
  const wide = `OR,(${Array.from({ length: 20_000 }, (_, i) => `(DOMAIN,d${i}.com)`).join(',')}),P`;
  assert.equal((rule(wide) as unknown as { rules: Rule[] }).rules.length, 20_000);
  const deep = `AND,${'('.repeat(500_000)}${')'.repeat(500_000)},P`;
  assert.throws(() => rule(deep), /deeper than/);
  assert.ok(Date.now() - t0 < 10_000);
});

test('truncated lines give clear errors', () => {
  const full = 'OR,((AND,((DOMAIN,a.com),(IP-CIDR,10.0.0.0/8,no-resolve))),(DST-PORT,443)),P';
  const payload = line(full).payload;
  for (let cut = 0; cut < payload.length; cut++) {
    const l: RuleLineInput = { raw: full, type: 'OR', payload: payload.slice(0, cut), target: 'P', params: [] };
    try {
      parseRule(l);
    } catch (err) {
      assert.ok(err instanceof ProxyError, `cut ${cut}: ${String(err)}`);
      assert.equal(err.code, 'CONFIG');
    }
  }
});

test('random lines never crash with anything but a CONFIG error', () => {
  const alphabet = '(),/-.:abcDEF019 %*[]\\^$?+{}';
  const types = ['DOMAIN', 'DOMAIN-SUFFIX', 'DOMAIN-KEYWORD', 'IP-CIDR', 'IP-CIDR6', 'IP-SUFFIX', 'SRC-IP-CIDR',
    'SRC-PORT', 'DST-PORT', 'IN-PORT', 'IN-TYPE', 'IN-USER', 'IN-NAME', 'NETWORK', 'AND', 'OR', 'NOT', 'MATCH', 'X'];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 5000; i++) {
    const len = rand(40);
    let payload = '';
    for (let k = 0; k < len; k++) payload += alphabet[rand(alphabet.length)];
    const type = types[rand(types.length)];
    try {
      const r = parseRule({ raw: payload, type, payload, target: 'P', params: rand(2) ? ['no-resolve'] : [] });
      assert.equal(typeof r.match, 'function');
    } catch (err) {
      assert.ok(err instanceof ProxyError, `${type},${payload}: ${String(err)}`);
    }
  }
});
