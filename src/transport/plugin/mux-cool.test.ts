import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { MuxCoolClientCodec, endFrame, keepFrames, newFrame } from './mux-cool.js';

test('the first write opens session 0 to 127.0.0.1:0 (v2ray-plugin ignores the target), then Keep frames', () => {
  const c = new MuxCoolClientCodec();
  const w = c.encode(Buffer.from('hi')) as Buffer;
  assert.deepEqual(w, Buffer.from('000c 0000 01 00 01 0000 01 7f000001 0004 0000 0201 0002 6869'.replace(/ /g, ''), 'hex'));
  assert.deepEqual(c.encode(Buffer.from('!')), Buffer.from('0004000002010001 21'.replace(/ /g, ''), 'hex'));
  assert.deepEqual(c.finish().bytes, endFrame(0));
});

test('big writes split at 65535; a write-less end still opens and ends the session', () => {
  const f = keepFrames(0, Buffer.alloc(70000));
  assert.equal(f.readUInt16BE(6), 65535);
  assert.equal(f.readUInt16BE(8 + 65535 + 6), 70000 - 65535);
  assert.deepEqual(new MuxCoolClientCodec().finish().bytes, Buffer.concat([newFrame(0), endFrame(0)]));
});

test('reads: our data in any split, other sessions and keepalives skipped, End is end of stream', () => {
  for (let trial = 0; trial < 30; trial++) {
    const a = randomBytes(randomInt(0, 100000));
    const b = randomBytes(randomInt(1, 1000));
    const wire = Buffer.concat([
      keepFrames(0, a),
      Buffer.from([0, 4, 0, 9, 4, 0]), // keepalive
      keepFrames(7, randomBytes(300)), // another session
      keepFrames(0, b),
      endFrame(0),
      keepFrames(0, Buffer.from('after end')),
    ]);
    const c = new MuxCoolClientCodec();
    const out: Buffer[] = [];
    let eof = 0;
    for (let off = 0; off < wire.length; ) {
      const n = randomInt(1, trial % 2 ? 5 : 5000);
      c.decode(Buffer.from(wire.subarray(off, off + n)), { push: (x) => eof === 0 && out.push(Buffer.from(x)), reply() {}, eof: () => eof++ });
      off += n;
    }
    assert.equal(eof, 1);
    assert.deepEqual(Buffer.concat(out), Buffer.concat([a, b]));
  }
});

test('malformed frames are protocol errors; random input never throws anything else', () => {
  const sink = { push() {}, reply() {}, eof() {} };
  assert.throws(() => new MuxCoolClientCodec().decode(Buffer.from([0x10, 0, 0]), sink), { code: 'PROTOCOL' });
  assert.throws(() => new MuxCoolClientCodec().decode(Buffer.from([0, 4, 0, 0, 9, 0]), sink), { code: 'PROTOCOL' });
  for (let i = 0; i < 2000; i++) {
    try {
      new MuxCoolClientCodec().decode(randomBytes(randomInt(1, 300)), sink);
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'PROTOCOL');
    }
  }
});
