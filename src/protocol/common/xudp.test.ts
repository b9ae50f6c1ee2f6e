import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Address } from '../../core/address.js';
import { hasCode } from '../../core/errors.js';
import type { DatagramSink } from './stream-packet-conn.js';
import { encodeXudpEnd, encodeXudpFrame, writeXudpFrame, XudpDecoder, xudpFrameSize } from './xudp.js';

/** Collects what a decoder hands out. */
function collector(): DatagramSink & { got: [string, Address | undefined][] } {
  const got: [string, Address | undefined][] = [];
  return { got, datagram: (data, from) => got.push([data.toString(), from]) };
}

test('frames: New with the GlobalID first, then Keep with the address; End', () => {
  const gid = Buffer.from('0102030405060708', 'hex');
  const to = { host: '127.0.0.1', port: 53 };
  assert.equal(
    encodeXudpFrame(true, to, Buffer.from('abc'), gid).toString('hex'),
    '0014' + '0000' + '01' + '01' + '02' + '0035' + '01' + '7f000001' + '0102030405060708' + '0003' + '616263',
  );
  assert.equal(encodeXudpFrame(false, to, Buffer.from('abc'), gid).toString('hex'), '000c' + '0000' + '02' + '01' + '02' + '0035' + '01' + '7f000001' + '0003' + '616263');
  // without a GlobalID (VMess) the New frame is the Keep frame's shape
  const f = encodeXudpFrame(true, { host: 'example.com', port: 443 }, Buffer.from('hi'));
  assert.equal(f.readUInt16BE(0), 5 + 4 + 11);
  assert.deepEqual([...f.subarray(2, 7)], [0, 0, 1, 1, 2]);
  assert.equal(f.readUInt16BE(7), 443);
  assert.equal(f[9], 2);
  assert.equal(encodeXudpEnd().toString('hex'), '000400000300');
});

test('frames are written at an offset into one buffer; oversized datagrams and names refuse', () => {
  const to = { host: '2001:db8::1', port: 5353 };
  const data = Buffer.from('payload');
  const out = Buffer.alloc(4 + xudpFrameSize(false, to, data), 0xee);
  assert.equal(writeXudpFrame(out, 4, false, to, data), out.length);
  assert.deepEqual(out.subarray(4), encodeXudpFrame(false, to, data));
  assert.throws(() => encodeXudpFrame(false, to, Buffer.alloc(0x10000)), (e: unknown) => hasCode(e, 'PROTOCOL'));
  assert.throws(() => encodeXudpFrame(false, { host: 'a'.repeat(256), port: 1 }, data), (e: unknown) => hasCode(e, 'PROTOCOL'));
});

test('decoder: Keep with and without an address (v2ray 4.34), KeepAlive skipped, End ends, at every split', () => {
  const withAddr = encodeXudpFrame(false, { host: '2001:db8::5', port: 5353 }, Buffer.from('one'));
  const bare = Buffer.from([0, 4, 0, 0, 2, 1, 0, 3, 0x74, 0x77, 0x6f]);
  const alive = Buffer.from('000400000400', 'hex');
  const empty = Buffer.from('0004000002010000', 'hex'); // a Keep with zero data: nothing
  const after = encodeXudpFrame(false, { host: '1.1.1.1', port: 1 }, Buffer.from('late'));
  const wire = Buffer.concat([withAddr, alive, bare, empty, encodeXudpEnd(), after]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new XudpDecoder();
    const c = collector();
    const a = d.push(wire.subarray(0, cut), c);
    const b = d.push(wire.subarray(cut), c);
    assert.deepEqual(c.got, [['one', { host: '2001:db8::5', port: 5353 }], ['two', undefined]], `cut at ${cut}`);
    assert.equal(b, true);
    assert.equal(a, cut >= wire.length - after.length);
    assert.equal(d.push(Buffer.from('garbage'), c), true, 'an ended decoder reads nothing more');
  }
  // byte by byte
  const d = new XudpDecoder();
  const c = collector();
  for (let i = 0; i < withAddr.length; i++) d.push(withAddr.subarray(i, i + 1), c);
  assert.equal(c.got.length, 1);
  assert.equal(d.buffered, 0);
});

test('decoder: the Error option ends the session; New from a server, bad lengths, unknown status are PROTOCOL', () => {
  assert.equal(new XudpDecoder().push(Buffer.from('000400000202', 'hex'), collector()), true);
  for (const hex of ['000400000100', 'ffff', '0003', '000400000900']) {
    assert.throws(() => new XudpDecoder().push(Buffer.from(hex, 'hex'), collector()), (e: unknown) => hasCode(e, 'PROTOCOL'), hex);
  }
  // an address that overruns its metadata
  assert.throws(() => new XudpDecoder().push(Buffer.from('0008000002010200350100020000', 'hex'), collector()), /overruns/);
});

test('decoder on random input: datagrams or a PROTOCOL error, never anything else', () => {
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(2 + (i % 60));
    if (i % 2 === 0) b.writeUInt16BE(4 + (i % 20), 0);
    try {
      new XudpDecoder().push(b, collector());
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'), String(err));
    }
  }
});
