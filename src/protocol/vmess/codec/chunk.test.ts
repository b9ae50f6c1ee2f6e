import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { ByteQueue } from './byte-queue.js';
import { ChunkReader, ChunkWriter, MAX_CHUNK_PAYLOAD } from './chunk.js';
import { OPTION, SECURITY } from './request.js';
import { framingFor } from './session.js';

const OPTIONS: Array<[string, number]> = [
  ['plain length', OPTION.CHUNK_STREAM],
  ['masked', OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING],
  ['masked + padding', OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING | OPTION.GLOBAL_PADDING],
  ['authenticated length', OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING | OPTION.AUTHENTICATED_LENGTH],
  ['authenticated length + padding', OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING | OPTION.AUTHENTICATED_LENGTH | OPTION.GLOBAL_PADDING],
];
const SECURITIES: Array<[string, number]> = [
  ['aes-128-gcm', SECURITY.AES_128_GCM],
  ['chacha20-poly1305', SECURITY.CHACHA20_POLY1305],
  ['none', SECURITY.NONE],
];

function pair(option: number, security: number): { w: ChunkWriter; r: ChunkReader } {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  // both ends derive the framing independently, as client and server do
  return { w: new ChunkWriter(framingFor(option, security, key, iv, key, iv)!), r: new ChunkReader(framingFor(option, security, key, iv, key, iv)!) };
}

function readAll(r: ChunkReader, q: ByteQueue): { data: Buffer[]; eof: boolean } {
  const data: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) {
    const p = r.next(q);
    if (p === undefined) return { data, eof: false };
    if (p === null) return { data, eof: true };
    data.push(p);
  }
  throw new Error('runaway');
}

for (const [sn, sec] of SECURITIES) {
  for (const [on, opt] of OPTIONS) {
    if (sec === SECURITY.NONE && opt & OPTION.AUTHENTICATED_LENGTH) continue;
    test(`chunk stream round trip: ${sn}, ${on}, fed in odd pieces`, () => {
      const { w, r } = pair(opt, sec);
      const data = randomBytes(3 * MAX_CHUNK_PAYLOAD + 777);
      const wire = Buffer.concat([w.stream(data.subarray(0, 5)), w.stream(data.subarray(5)), w.packet(Buffer.from('x')), w.end()]);
      const q = new ByteQueue();
      const got: Buffer[] = [];
      let eof = false;
      for (let at = 0; at < wire.length && !eof; at += 997) {
        q.push(wire.subarray(at, at + 997));
        const step = readAll(r, q);
        got.push(...step.data);
        eof = step.eof;
      }
      assert.ok(eof, 'EOF chunk seen');
      const all = Buffer.concat(got);
      assert.equal(createHash('sha256').update(all).digest('hex'), createHash('sha256').update(Buffer.concat([data, Buffer.from('x')])).digest('hex'));
    });
  }
}

test('full-size chunks on the bulk path', () => {
  const { w } = pair(OPTION.CHUNK_STREAM, SECURITY.AES_128_GCM);
  const wire = w.stream(randomBytes(4 * MAX_CHUNK_PAYLOAD));
  assert.equal(wire.length, 4 * (2 + MAX_CHUNK_PAYLOAD + 16));
});

test('a tampered chunk is a PROTOCOL error; random input never crashes the reader', () => {
  const { w, r } = pair(OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING, SECURITY.AES_128_GCM);
  const wire = w.stream(randomBytes(100));
  wire[10] ^= 1;
  const q = new ByteQueue();
  q.push(wire);
  assert.throws(() => r.next(q), (e) => hasCode(e, 'PROTOCOL'));
  for (const [, sec] of SECURITIES) {
    for (const [, opt] of OPTIONS) {
      for (let i = 0; i < 30; i++) {
        const { r: rr } = pair(opt, sec);
        const qq = new ByteQueue();
        qq.push(randomBytes(1 + i * 7));
        try {
          readAll(rr, qq);
        } catch (err) {
          assert.ok(hasCode(err, 'PROTOCOL'), String(err));
        }
      }
    }
  }
});
