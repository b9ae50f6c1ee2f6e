import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { ByteQueue } from './byte-queue.js';
import { encodeXudpFrame, readXudpFrame } from './xudp.js';

const fallback = { host: '9.9.9.9', port: 53 };

test('Keep frames with an address come from it; v2ray-style frames without one from the fallback', () => {
  const q = new ByteQueue();
  const keep = encodeXudpFrame(false, { host: '2001:db8::5', port: 5353 }, Buffer.from('one'));
  // v2ray 4.34: metadata is only session, status Keep, option data
  const bare = Buffer.from([0, 4, 0, 0, 2, 1, 0, 3, 0x74, 0x77, 0x6f]);
  const end = Buffer.from([0, 4, 0, 0, 3, 0]);
  const all = Buffer.concat([keep, bare, end]);
  const got: unknown[] = [];
  for (let at = 0; at < all.length; at++) {
    q.push(all.subarray(at, at + 1));
    for (;;) {
      const p = readXudpFrame(q, fallback);
      if (p === undefined) break;
      got.push(p === 'end' ? p : { data: p.data.toString(), from: p.from });
    }
  }
  assert.deepEqual(got, [
    { data: 'one', from: { host: '2001:db8::5', port: 5353 } },
    { data: 'two', from: fallback },
    'end',
  ]);
});

test('the first frame is New, with the UDP network byte and the destination', () => {
  const f = encodeXudpFrame(true, { host: 'example.com', port: 443 }, Buffer.from('hi'));
  assert.equal(f.readUInt16BE(0), 5 + 4 + 11);
  assert.deepEqual([...f.subarray(2, 7)], [0, 0, 1, 1, 2]);
  assert.equal(f.readUInt16BE(7), 443);
  assert.equal(f[9], 2);
});

test('random frames: PROTOCOL error or wait, never a crash', () => {
  for (let i = 0; i < 500; i++) {
    const q = new ByteQueue();
    q.push(randomBytes(1 + (i % 40)));
    try {
      for (let k = 0; k < 50; k++) if (readXudpFrame(q, fallback) === undefined) break;
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'), String(err));
    }
  }
});
