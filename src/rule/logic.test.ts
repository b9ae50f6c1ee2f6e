import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata, Network } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { LogicRule } from './logic.js';
import { parseRule } from './parse.js';

function meta(host: string, network: Network = 'tcp'): Metadata {
  return {
    id: 't',
    network,
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: '127.0.0.1', port: 50000 },
    destination: { host, port: 443 },
  };
}

function logic(type: string, payload: string): Rule {
  return parseRule({ raw: `${type},${payload},P`, type, payload, target: 'P', params: [] });
}

test('AND: all sub-rules; payload as mihomo prints it', () => {
  const r = logic('AND', '((DOMAIN,baidu.com),(NETWORK,UDP))');
  assert.equal(r.type, 'AND');
  assert.equal(r.target, 'P');
  assert.equal(r.payload, '((Domain,baidu.com) && (Network,udp))');
  assert.equal(r.match(meta('baidu.com', 'udp'), undefined), true);
  assert.equal(r.match(meta('baidu.com', 'tcp'), undefined), false);
  assert.equal(r.match(meta('qq.com', 'udp'), undefined), false);
});

test('OR: any sub-rule', () => {
  const r = logic('OR', '((DOMAIN-SUFFIX,a.com),(DST-PORT,53))');
  assert.equal(r.payload, '((DomainSuffix,a.com) || (DstPort,53))');
  assert.equal(r.match(meta('x.a.com'), undefined), true);
  assert.equal(r.match(meta('b.com'), undefined), false);
});

test('NOT: exactly one sub-rule', () => {
  const r = logic('NOT', '((DOMAIN-KEYWORD,ads))');
  assert.equal(r.payload, '(!(DomainKeyword,ads))');
  assert.equal(r.match(meta('example.com'), undefined), true);
  assert.equal(r.match(meta('ads.example.com'), undefined), false);
  assert.throws(() => logic('NOT', '((DOMAIN,a),(DOMAIN,b))'), /NOT needs exactly one sub-rule, got 2/);
});

test('nesting: AND inside OR inside NOT, payloads rebuilt recursively', () => {
  const r = logic('NOT', '((OR,((AND,((DOMAIN,a.com),(NETWORK,udp))),(DOMAIN,b.com))))');
  assert.equal(r.payload, '(!(OR,((AND,((Domain,a.com) && (Network,udp))) || (Domain,b.com))))');
  assert.equal(r.match(meta('a.com', 'udp'), undefined), false);
  assert.equal(r.match(meta('a.com', 'tcp'), undefined), true);
  assert.equal(r.match(meta('b.com', 'tcp'), undefined), false);
});

test('needsIp propagates from IP sub-rules without no-resolve, and the IP reaches them', () => {
  const r = logic('AND', '((NETWORK,tcp),(IP-CIDR,10.0.0.0/8))');
  assert.equal(r.needsIp, true);
  assert.equal(r.match(meta('a.com'), '10.1.1.1'), true);
  assert.equal(r.match(meta('a.com'), undefined), false);
  assert.equal(logic('AND', '((NETWORK,tcp),(IP-CIDR,10.0.0.0/8,no-resolve))').needsIp, false);
  assert.equal(logic('OR', '((DOMAIN,a),(NOT,((IP-CIDR,10.0.0.0/8))))').needsIp, true);
  const src = logic('AND', '((IP-CIDR,127.0.0.0/8,src),(NETWORK,tcp))');
  assert.equal(src.needsIp, false);
  assert.equal(src.match(meta('a.com'), undefined), true);
});

test('sub-rule errors name the sub-rule', () => {
  assert.throws(() => logic('AND', '((IP-CIDR,1.2.3/33),(NETWORK,tcp))'), {
    code: 'CONFIG',
    message: /^invalid IP-CIDR payload "1\.2\.3\/33".*\(in AND sub-rule "\(IP-CIDR,1\.2\.3\/33\)"\)$/,
  });
  assert.throws(() => logic('OR', '((DSCP,4),(NETWORK,tcp))'), /rule type DSCP not supported yet/);
  assert.throws(() => logic('OR', '((FOO,x))'), /unknown rule type FOO/);
  assert.throws(() => logic('AND', '((MATCH,x))'), /MATCH is not allowed inside AND/);
});

test('LogicRule can be built directly', () => {
  const r = new LogicRule('OR', [], 'P');
  assert.equal(r.match(meta('a'), undefined), false);
  assert.equal(r.payload, '()');
});
