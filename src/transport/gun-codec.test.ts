import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { GunCodec, encodeGun } from './gun-codec.js';

function decodeAll(wire: Buffer, maxPiece = 3000): Buffer {
  const c = new GunCodec();
  const out: Buffer[] = [];
  for (let off = 0; off < wire.length; ) {
    const n = randomInt(1, maxPiece);
    c.decode(Buffer.from(wire.subarray(off, off + n)), { push: (b) => out.push(Buffer.from(b)), reply() {}, eof() {} });
    off += n;
  }
  return Buffer.concat(out);
}

test('the wire format: gRPC prefix, protobuf field 1, varint length', () => {
  assert.deepEqual(encodeGun(Buffer.from('abc')), Buffer.from('00000000050a03616263', 'hex'));
  // 300 bytes: varint ac 02, message = 1 + 2 + 300
  assert.deepEqual(encodeGun(Buffer.alloc(300)).subarray(0, 8), Buffer.from('000000012f0aac02', 'hex'));
});

test('messages round-trip whatever the split', () => {
  for (let trial = 0; trial < 30; trial++) {
    const chunks = Array.from({ length: 10 }, () => randomBytes(randomInt(0, 70000)));
    assert.deepEqual(decodeAll(Buffer.concat(chunks.map(encodeGun)), trial % 2 ? 7 : 5000), Buffer.concat(chunks));
  }
});

test('unknown protobuf fields after the payload are skipped', () => {
  // message: field 1 "hi", then field 2 varint 5
  const body = Buffer.from([0x0a, 2, 0x68, 0x69, 0x10, 5]);
  const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body, encodeGun(Buffer.from('!'))]);
  assert.equal(decodeAll(wire).toString(), 'hi!');
});

test('malformed input is a protocol error', () => {
  const bad = [
    Buffer.from('01000000030a0161', 'hex'), // compressed flag
    Buffer.from('0000000003120161', 'hex'), // wrong tag
    Buffer.from('00ffffffff0a', 'hex'), // 4 GiB message
    Buffer.from('00000000020a05', 'hex'), // payload longer than the message
    Buffer.from('00000000100affffffffffff', 'hex'), // runaway varint
  ];
  for (const b of bad) assert.throws(() => decodeAll(b, 2), { code: 'PROTOCOL' });
});

test('random input: a protocol error or partial output, never another exception', () => {
  for (let i = 0; i < 2000; i++) {
    try {
      decodeAll(randomBytes(randomInt(1, 100)));
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'PROTOCOL');
    }
  }
});
