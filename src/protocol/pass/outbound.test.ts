import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasCode } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { PASS_TYPE } from '../../core/outbound.js';
import { createPass } from './outbound.js';

test('PASS is a marker: dialing it is UNSUPPORTED', async () => {
  const p = createPass();
  assert.deepEqual([p.name, p.type], ['PASS', PASS_TYPE]);
  const meta = { destination: { host: 'a.test', port: 1 } } as Metadata;
  const signal = new AbortController().signal;
  await assert.rejects(p.dialTcp(meta, { signal }), (err: unknown) => hasCode(err, 'UNSUPPORTED'));
  await assert.rejects(p.dialUdp(meta, { signal }), (err: unknown) => hasCode(err, 'UNSUPPORTED'));
  await p.close();
});
