import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_PAREN_DEPTH, splitLogicPayload, subRuleLine } from './logic-payload.js';

test('splits the groups inside one outer pair', () => {
  assert.deepEqual(splitLogicPayload('AND', '((DOMAIN,baidu.com),(NETWORK,UDP))'), ['DOMAIN,baidu.com', 'NETWORK,UDP']);
  assert.deepEqual(splitLogicPayload('NOT', '((DOMAIN,a.com))'), ['DOMAIN,a.com']);
});

test('without an outer pair the top-level groups are the sub-rules', () => {
  assert.deepEqual(splitLogicPayload('OR', '(DOMAIN,a.com),(DOMAIN,b.com)'), ['DOMAIN,a.com', 'DOMAIN,b.com']);
  // one pair around everything is the outer pair, as in mihomo: nothing inside it
  assert.throws(() => splitLogicPayload('NOT', '(DOMAIN,a.com)'), /no sub-rule/);
});

test('nested groups stay whole', () => {
  assert.deepEqual(splitLogicPayload('OR', '((AND,((DOMAIN,a),(NETWORK,UDP))),(DOMAIN,b))'), [
    'AND,((DOMAIN,a),(NETWORK,UDP))',
    'DOMAIN,b',
  ]);
});

test('bad parentheses are clear errors', () => {
  assert.throws(() => splitLogicPayload('AND', '((DOMAIN,a)'), { code: 'CONFIG', message: /missing a '\)'/ });
  assert.throws(() => splitLogicPayload('AND', '(DOMAIN,a))'), /'\)' without its '\('/);
  assert.throws(() => splitLogicPayload('AND', 'DOMAIN,a'), /no sub-rule/);
  assert.throws(() => splitLogicPayload('AND', '()'), /no sub-rule/);
  assert.throws(() => splitLogicPayload('AND', ''), /no sub-rule/);
});

test('deep nesting is refused before any recursion, quickly', () => {
  const deep = '('.repeat(200_000) + ')'.repeat(200_000);
  const t0 = Date.now();
  assert.throws(() => splitLogicPayload('AND', deep), new RegExp(`deeper than ${MAX_PAREN_DEPTH}`));
  assert.ok(Date.now() - t0 < 5000);
  const ok = '('.repeat(MAX_PAREN_DEPTH) + 'x' + ')'.repeat(MAX_PAREN_DEPTH);
  assert.doesNotThrow(() => splitLogicPayload('AND', ok));
});

test('sub-rule lines: type trimmed and upper-cased, params split, logic and regex kept whole', () => {
  assert.deepEqual(subRuleLine('AND', ' ip-cidr , 10.0.0.0/8 , no-resolve'), {
    raw: ' ip-cidr , 10.0.0.0/8 , no-resolve',
    type: 'IP-CIDR',
    payload: '10.0.0.0/8',
    target: '',
    params: ['no-resolve'],
  });
  assert.equal(subRuleLine('AND', 'OR,((DOMAIN,a),(DOMAIN,b))').payload, '((DOMAIN,a),(DOMAIN,b))');
  assert.equal(subRuleLine('AND', 'DOMAIN-REGEX,^a{1,3}$').payload, '^a{1,3}$');
  assert.throws(() => subRuleLine('AND', 'DOMAIN'), /is not \(TYPE,PAYLOAD\)/);
  assert.throws(() => subRuleLine('AND', 'MATCH,'), /MATCH is not allowed inside AND/);
  assert.throws(() => subRuleLine('OR', 'SUB-RULE,x'), /SUB-RULE is not allowed inside OR/);
});
