import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { OP_BINARY, OP_CLOSE, OP_PING, WsFrameReader, encodeFrame } from './ws-frame.js';

/** Feeds `wire` in random pieces; returns data and control frames seen. */
function read(wire: Buffer, masked: boolean): { data: Buffer; controls: [number, string][] } {
  const r = new WsFrameReader({ masked });
  const parts: Buffer[] = [];
  const controls: [number, string][] = [];
  for (let off = 0; off < wire.length; ) {
    const n = randomInt(1, 40);
    r.feed(Buffer.from(wire.subarray(off, off + n)), {
      data: (b) => parts.push(Buffer.from(b)),
      control: (op, p) => controls.push([op, p.toString()]),
    });
    off += n;
  }
  return { data: Buffer.concat(parts), controls };
}

test('frames of every length class round-trip, masked and not, split anywhere', () => {
  for (const mask of [false, true]) {
    const payloads = [0, 1, 125, 126, 127, 65535, 65536, 70000].map((n) => randomBytes(n));
    const wire = Buffer.concat(payloads.map((p) => encodeFrame(OP_BINARY, p, mask)));
    assert.deepEqual(read(wire, mask).data, Buffer.concat(payloads));
  }
});

test('the wire format: FIN, opcode, length forms (RFC 6455 §5.2)', () => {
  assert.deepEqual(encodeFrame(OP_BINARY, Buffer.from('abc'), false), Buffer.from([0x82, 3, 0x61, 0x62, 0x63]));
  const mid = encodeFrame(OP_BINARY, Buffer.alloc(300), false);
  assert.deepEqual(mid.subarray(0, 4), Buffer.from([0x82, 126, 0x01, 0x2c]));
  const big = encodeFrame(OP_BINARY, Buffer.alloc(70000), false);
  assert.deepEqual(big.subarray(0, 10), Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]));
  const masked = encodeFrame(OP_BINARY, Buffer.from('abc'), true);
  assert.equal(masked[1], 0x80 | 3);
  const key = masked.subarray(2, 6);
  assert.deepEqual(Buffer.from([...masked.subarray(6)].map((b, i) => b ^ key[i & 3])).toString(), 'abc');
});

test('control frames between data, in pieces', () => {
  const wire = Buffer.concat([
    encodeFrame(OP_BINARY, Buffer.from('he'), false),
    encodeFrame(OP_PING, Buffer.from('p1'), false),
    encodeFrame(OP_BINARY, Buffer.from('llo'), false),
    encodeFrame(OP_CLOSE, Buffer.from([3, 0xe8]), false),
  ]);
  const r = read(wire, false);
  assert.equal(r.data.toString(), 'hello');
  assert.deepEqual(r.controls.map(([op]) => op), [OP_PING, OP_CLOSE]);
});

test('malformed frames are protocol errors', () => {
  const bad = [
    Buffer.from([0xc2, 0]), // RSV1
    Buffer.from([0x83, 0]), // reserved opcode
    Buffer.from([0x09, 0]), // fragmented ping
    Buffer.from([0x89, 126, 0, 200]), // control frame too long
    Buffer.from([0x82, 0x80, 0, 0, 0, 0]), // masked from a server
    Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]), // > 4 GiB
  ];
  for (const b of bad) assert.throws(() => new WsFrameReader({ masked: false }).feed(b, { data() {}, control() {} }), { code: 'PROTOCOL' });
  assert.throws(() => new WsFrameReader({ masked: true }).feed(Buffer.from([0x82, 1, 0]), { data() {}, control() {} }), { code: 'PROTOCOL' });
});

test('random input: a protocol error or nothing, never another exception', () => {
  for (let i = 0; i < 2000; i++) {
    try {
      new WsFrameReader({ masked: i % 2 === 0 }).feed(randomBytes(randomInt(1, 200)), { data() {}, control() {} });
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'PROTOCOL');
    }
  }
});

test('truncated frames wait for more bytes', () => {
  const wire = encodeFrame(OP_BINARY, Buffer.from('hello world'), false);
  const got: Buffer[] = [];
  const r = new WsFrameReader({ masked: false });
  r.feed(Buffer.from(wire.subarray(0, 5)), { data: (b) => got.push(Buffer.from(b)), control() {} });
  assert.equal(Buffer.concat(got).toString(), 'hel');
});
