// Each fuzz finding, as the minimal input fast-check shrank it to, with the behaviour its fix set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProxyError } from '../../src/core/errors.js';
import { payloadMappings } from '../../src/provider/payload.js';

describe('fuzz findings', () => {
  it('share-links: a payload that is neither YAML nor links throws a typed error (was a plain Error)', () => {
    for (const text of ['', 'troj%//pw@h.example:443#t', 'rules: []\n']) {
      assert.throws(() => payloadMappings(text), (e: unknown) => e instanceof ProxyError && e.code === 'CONFIG');
    }
  });
});
