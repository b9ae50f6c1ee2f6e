import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WARM_POOL_CONFIG_DEFAULTS, warmPoolConfigSchema } from './warm-pool.js';
import { generalSchema } from './general.js';

test('warm-pool: defaults, object form, shorthand, units', () => {
  assert.deepEqual(generalSchema.parse({}).warmPool, WARM_POOL_CONFIG_DEFAULTS);
  assert.deepEqual(warmPoolConfigSchema.parse(false), { ...WARM_POOL_CONFIG_DEFAULTS, enable: false });
  assert.deepEqual(warmPoolConfigSchema.parse({ min: '1', max: 4, 'max-idle': 2.5 }), { enable: true, min: 1, max: 4, maxIdleMs: 2500 });
  assert.equal(warmPoolConfigSchema.parse({ 'max-idle': '1m' }).maxIdleMs, 60_000);
  assert.equal(warmPoolConfigSchema.parse({ enable: 'off' }).enable, false);
});

test('warm-pool: bad values are refused, not ignored', () => {
  for (const bad of [{ min: 5, max: 2 }, { max: -1 }, { 'max-idle': 'later' }, { maxidle: 3 }, 'maybe', [1], { max: 1e9 }]) {
    assert.equal(warmPoolConfigSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
