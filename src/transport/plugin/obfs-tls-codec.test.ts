import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ObfsTlsClientCodec, appDataRecords, clientHello, MAX_RECORD } from './obfs-tls-codec.js';

test('ClientHello: the fields simple-obfs checks, the ticket carries the data, lengths agree', () => {
  const data = Buffer.from('first payload');
  const h = clientHello(data, 'example.org', 0x01020304, Buffer.alloc(60, 7));
  // check_tls_request: 0x16 03 01 .. .. 01 .. .. .. 03 03
  assert.deepEqual([h[0], h[1], h[2], h[5], h[9], h[10]], [0x16, 3, 1, 1, 3, 3]);
  assert.equal(h.readUInt16BE(3), h.length - 5);
  assert.equal(h.readUInt16BE(7), h.length - 9);
  assert.equal(h.readUInt32BE(11), 0x01020304);
  assert.equal(h[43], 32); // session id length
  // fixed part: 5 + 4 + 2 + 32 + 1 + 32 + 2 + 56 + 2 + 2 = 138, then the session ticket first
  assert.equal(h.readUInt16BE(136), h.length - 138);
  assert.equal(h.readUInt16BE(138), 0x0023);
  assert.equal(h.readUInt16BE(140), data.length);
  assert.deepEqual(h.subarray(142, 142 + data.length), data);
  const sni = 142 + data.length;
  assert.equal(h.readUInt16BE(sni), 0);
  assert.equal(h.subarray(sni + 9, sni + 9 + 11).toString(), 'example.org');
  // mihomo's and simple-obfs' total: 212 + data + host, plus the 5-byte record header
  assert.equal(h.length, 5 + 212 + data.length + 'example.org'.length);
});

test('writes: the first chunk rides in the hello, the rest in records of at most 16 KiB', () => {
  const c = new ObfsTlsClientCodec('h');
  const first = randomBytes(MAX_RECORD + 100);
  const wire = c.encode(first) as Buffer;
  const helloLen = wire.readUInt16BE(3) + 5;
  const rest = wire.subarray(helloLen);
  assert.deepEqual(rest.subarray(0, 5), Buffer.from([0x17, 3, 3, 0, 100]));
  assert.deepEqual(c.encode(Buffer.alloc(40000)).subarray(0, 5), Buffer.from([0x17, 3, 3, 0x40, 0]));
});

/** What obfs-server sends back: ServerHello (96), ChangeCipherSpec (6), a handshake record with the first data, then records. */
function serverReply(first: Buffer, more: Buffer): Buffer {
  const hello = Buffer.concat([Buffer.from([0x16, 3, 1, 0, 91]), randomBytes(91)]);
  const ccs = Buffer.from([0x14, 3, 3, 0, 1, 1]);
  const fin = Buffer.concat([Buffer.from([0x16, 3, 3, first.length >> 8, first.length & 0xff]), first]);
  return Buffer.concat([hello, ccs, fin, appDataRecords(more)]);
}

test('reads: handshake filler skipped, data from the finished record on, any split', () => {
  for (let trial = 0; trial < 50; trial++) {
    const first = randomBytes(randomInt(0, 3000));
    const more = randomBytes(randomInt(0, 50000));
    const wire = serverReply(first, more);
    const c = new ObfsTlsClientCodec('h');
    const out: Buffer[] = [];
    for (let off = 0; off < wire.length; ) {
      const n = randomInt(1, trial % 2 ? 9 : 4000);
      c.decode(Buffer.from(wire.subarray(off, off + n)), { push: (b) => out.push(Buffer.from(b)), reply() {}, eof() {} });
      off += n;
    }
    assert.deepEqual(Buffer.concat(out), Buffer.concat([first, more]));
  }
});

test('malformed replies are protocol errors; random input never throws anything else', () => {
  const sink = { push() {}, reply() {}, eof() {} };
  assert.throws(() => new ObfsTlsClientCodec('h').decode(Buffer.from('HTTP/1.1 200 OK\r\n'), sink), { code: 'PROTOCOL' });
  assert.throws(() => new ObfsTlsClientCodec('h').decode(Buffer.from([0x17, 3, 3, 0, 1, 0]), sink), { code: 'PROTOCOL' });
  for (let i = 0; i < 2000; i++) {
    try {
      new ObfsTlsClientCodec('h').decode(randomBytes(randomInt(1, 300)), sink);
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'PROTOCOL');
    }
  }
});
