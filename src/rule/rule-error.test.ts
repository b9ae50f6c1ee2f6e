import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../core/errors.js';
import { payloadError, quote, ruleError } from './rule-error.js';

test('quote cuts long text and shows control characters', () => {
  assert.equal(quote('a\tb'), '"a\\tb"');
  assert.ok(quote('x'.repeat(10_000)).length < 100);
});

test('rule errors are ProxyError CONFIG', () => {
  const e = payloadError('IP-CIDR', '1.2.3/33', 'why');
  assert.ok(e instanceof ProxyError);
  assert.equal(e.code, 'CONFIG');
  assert.equal(e.message, 'invalid IP-CIDR payload "1.2.3/33": why');
  assert.equal(ruleError('m', e).cause, e);
});
