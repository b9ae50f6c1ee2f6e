import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { encodeLengthFrames, LengthFrameDecoder, MAX_FRAME_PAYLOAD } from './packet.js';

test('length frames: LEN PAYLOAD, split at 8192 as mihomo, empty datagram sends nothing', () => {
  assert.equal(Buffer.concat(encodeLengthFrames(Buffer.from('abc'))).toString('hex'), '0003616263');
  assert.deepEqual(encodeLengthFrames(Buffer.alloc(0)), []);
  const big = encodeLengthFrames(Buffer.alloc(MAX_FRAME_PAYLOAD + 1));
  assert.deepEqual(big.map((f) => f.readUInt16BE(0)), [MAX_FRAME_PAYLOAD, 1]);
});

test('length decoder: frames split anywhere come out whole; a truncated end is reported', () => {
  const wire = Buffer.concat([Buffer.from('0003616263', 'hex'), Buffer.from('0000', 'hex'), Buffer.from('000178', 'hex')]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new LengthFrameDecoder();
    const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))].map((b) => b.toString());
    assert.deepEqual(out, ['abc', 'x']);
    assert.equal(d.buffered, 0);
  }
  const d = new LengthFrameDecoder();
  d.push(Buffer.from('000561', 'hex'));
  assert.throws(() => d.finish(), ProxyError);
});

test('length decoder on random input: packets or a PROTOCOL error, never a crash', () => {
  for (let i = 0; i < 1000; i++) {
    const chunk = randomBytes(1 + (i % 300));
    try {
      new LengthFrameDecoder().push(chunk);
    } catch (e) {
      assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL');
    }
  }
});
