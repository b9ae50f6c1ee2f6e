import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import { DomainKeywordRule, DomainRegexRule, DomainRule, DomainSuffixRule, normaliseDomain } from './domain.js';

function to(host: string): Metadata {
  return {
    id: 't',
    network: 'tcp',
    inbound: { type: 'HTTPS', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: '127.0.0.1', port: 50000 },
    destination: { host, port: 443 },
  };
}

test('normaliseDomain lower-cases and punycodes', () => {
  assert.equal(normaliseDomain('WWW.Example.COM'), 'www.example.com');
  assert.equal(normaliseDomain('中文.com'), 'xn--fiq228c.com');
  assert.equal(normaliseDomain('a b.中文'), 'a b.中文'); // punycode refuses: kept lower-cased
});

test('DOMAIN matches the exact name, any case', () => {
  const r = new DomainRule('Example.com', 'P');
  assert.equal(r.type, 'Domain');
  assert.equal(r.payload, 'example.com');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(to('example.com')), true);
  assert.equal(r.match(to('EXAMPLE.com')), true);
  assert.equal(r.match(to('www.example.com')), false);
  assert.equal(r.match(to('example.com.cn')), false);
  assert.equal(new DomainRule('中文.com', 'P').match(to('xn--fiq228c.com')), true);
});

test('DOMAIN-SUFFIX matches the name and its subdomains, not lookalikes', () => {
  const r = new DomainSuffixRule('google.com', 'P');
  assert.equal(r.type, 'DomainSuffix');
  assert.equal(r.match(to('google.com')), true);
  assert.equal(r.match(to('www.google.com')), true);
  assert.equal(r.match(to('a.b.GOOGLE.com')), true);
  assert.equal(r.match(to('notgoogle.com')), false);
  assert.equal(r.match(to('google.com.hk')), false);
  assert.equal(r.match(to('com')), false);
});

test('domain rules never match an IP destination', () => {
  for (const r of [new DomainRule('1.2.3.4', 'P'), new DomainSuffixRule('4', 'P'), new DomainKeywordRule('1', 'P')]) {
    assert.equal(r.match(to('1.2.3.4')), false);
    assert.equal(r.match(to('::1')), false);
  }
});

test('DOMAIN-KEYWORD matches a substring', () => {
  const r = new DomainKeywordRule('GooGle', 'P');
  assert.equal(r.type, 'DomainKeyword');
  assert.equal(r.payload, 'google');
  assert.equal(r.match(to('www.google.co.jp')), true);
  assert.equal(r.match(to('googl.com')), false);
});

test('DOMAIN-REGEX is case-insensitive and keeps its payload as written', () => {
  const r = new DomainRegexRule('^ad[0-9]+\\.Example\\.com$', 'P');
  assert.equal(r.type, 'DomainRegex');
  assert.equal(r.payload, '^ad[0-9]+\\.Example\\.com$');
  assert.equal(r.match(to('ad12.example.com')), true);
  assert.equal(r.match(to('AD1.EXAMPLE.COM')), true);
  assert.equal(r.match(to('ad.example.com')), false);
  assert.equal(new DomainRegexRule('(?i)^x\\.', 'P').match(to('X.com')), true);
  assert.equal(new DomainRegexRule('a{1,3}', 'P').match(to('aa.com')), true);
});

test('DOMAIN-REGEX refuses a bad expression with a clear error', () => {
  assert.throws(() => new DomainRegexRule('(', 'P'), { code: 'CONFIG', message: /invalid DOMAIN-REGEX payload "\("/ });
  assert.throws(() => new DomainRegexRule('[z-a]', 'P'), /invalid DOMAIN-REGEX payload/);
});
