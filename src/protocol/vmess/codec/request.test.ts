import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { COMMAND, decodeRequest, encodeRequest, fnv1a32, OPTION, SECURITY, type RequestHeader } from './request.js';

const base = (command: number, destination?: { host: string; port: number }): RequestHeader => ({
  bodyIv: randomBytes(16),
  bodyKey: randomBytes(16),
  responseAuth: 0xab,
  option: OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING,
  security: SECURITY.AES_128_GCM,
  command,
  destination,
});

test('FNV-1a 32 of "a" and "foobar" (published values)', () => {
  assert.equal(fnv1a32(Buffer.from('a'), 1), 0xe40c292c);
  assert.equal(fnv1a32(Buffer.from('foobar'), 6), 0xbf9cf968);
});

test('request round trip: IPv4, IPv6, domain, MUX; every padding length', () => {
  const dests = [{ host: '1.2.3.4', port: 80 }, { host: '2001:db8::1', port: 443 }, { host: 'example.com', port: 8080 }];
  for (const d of dests) {
    for (let p = 0; p < 16; p++) {
      const r = base(COMMAND.TCP, d);
      const got = decodeRequest(encodeRequest(r, p));
      assert.deepEqual(got.destination, d);
      assert.deepEqual(got.bodyKey, r.bodyKey);
      assert.deepEqual(got.bodyIv, r.bodyIv);
      assert.equal(got.responseAuth, 0xab);
      assert.equal(got.option, r.option);
      assert.equal(got.security, SECURITY.AES_128_GCM);
    }
  }
  const m = decodeRequest(encodeRequest(base(COMMAND.MUX, { host: 'x', port: 1 })));
  assert.equal(m.command, COMMAND.MUX);
  assert.equal(m.destination, undefined);
});

test('padding nibble and layout as v2ray writes them', () => {
  const b = encodeRequest(base(COMMAND.UDP, { host: '1.2.3.4', port: 53 }), 5);
  assert.equal(b[0], 1);
  assert.equal(b[35], (5 << 4) | SECURITY.AES_128_GCM);
  assert.equal(b[36], 0);
  assert.equal(b[37], COMMAND.UDP);
  assert.equal(b.readUInt16BE(38), 53);
  assert.equal(b[40], 1);
  assert.equal(b.length, 38 + 7 + 5 + 4);
});

test('truncated, tampered and random requests are PROTOCOL errors', () => {
  const b = encodeRequest(base(COMMAND.TCP, { host: 'example.com', port: 1 }), 3);
  for (let n = 0; n < b.length; n++) assert.throws(() => decodeRequest(b.subarray(0, n)), (e) => hasCode(e, 'PROTOCOL'));
  const t = Buffer.from(b);
  t[20] ^= 1;
  assert.throws(() => decodeRequest(t), (e) => hasCode(e, 'PROTOCOL'));
  for (let i = 0; i < 300; i++) {
    try {
      decodeRequest(randomBytes(i % 90));
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
    }
  }
});
