import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { encodeLengthFrames, LengthFrameDecoder, MAX_FRAME_PAYLOAD } from './packet.js';
import { encodeXudpEnd, encodeXudpFrame, XudpDecoder } from './xudp.js';

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

test('XUDP frames: NEW with GlobalID first, then KEEP with the address', () => {
  const gid = Buffer.from('0102030405060708', 'hex');
  const to = { host: '127.0.0.1', port: 53 };
  assert.equal(
    encodeXudpFrame(true, to, Buffer.from('abc'), gid).toString('hex'),
    '0014' + '0000' + '01' + '01' + '02' + '0035' + '01' + '7f000001' + '0102030405060708' + '0003' + '616263',
  );
  assert.equal(encodeXudpFrame(false, to, Buffer.from('abc'), gid).toString('hex'), '000c' + '0000' + '02' + '01' + '02' + '0035' + '01' + '7f000001' + '0003' + '616263');
  assert.equal(encodeXudpEnd().toString('hex'), '000400000300');
});

test('XUDP decoder: KEEP with and without address, KEEP_ALIVE skipped, END ends', () => {
  const withAddr = Buffer.from('000c0000020102' + '0035' + '01' + '0a000001' + '0002' + '6869', 'hex');
  const bare = Buffer.from('00040000020100026f6b', 'hex');
  const alive = Buffer.from('000400000400', 'hex');
  const wire = Buffer.concat([withAddr, alive, bare, encodeXudpEnd()]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new XudpDecoder();
    const a = d.push(wire.subarray(0, cut));
    const b = d.push(wire.subarray(cut));
    const packets = [...a.packets, ...b.packets];
    assert.deepEqual(packets.map((p) => [p.data.toString(), p.from?.host]), [['hi', '10.0.0.1'], ['ok', undefined]]);
    assert.equal(a.ended || b.ended, true);
  }
  assert.throws(() => new XudpDecoder().push(Buffer.from('000400000100', 'hex')), ProxyError); // NEW from a server
  assert.throws(() => new XudpDecoder().push(Buffer.from('ffff', 'hex')), ProxyError); // oversized metadata
});

test('decoders on random input: packets or a PROTOCOL error, never a crash', () => {
  for (let i = 0; i < 1000; i++) {
    const chunk = randomBytes(1 + (i % 300));
    for (const d of [new XudpDecoder(), new LengthFrameDecoder()]) {
      try {
        d.push(chunk);
      } catch (e) {
        assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL');
      }
    }
  }
});
