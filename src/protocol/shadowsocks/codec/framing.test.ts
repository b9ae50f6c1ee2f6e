import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { encodeSocksAddress, readSocksAddress } from '../../common/socks-address.js';
import { AeadDecoder, AeadEncoder } from './aead-framing.js';
import { Aead2022ClientDecoder, Aead2022ClientEncoder, type Session2022 } from './aead2022-client.js';
import { Aead2022ServerDecoder, Aead2022ServerEncoder, type Request2022 } from './aead2022-server.js';
import { AeadKey } from './aead.js';
import { AEAD_MAX_PAYLOAD, ChunkSealer, LENGTH_CHUNK_SIZE } from './chunks.js';
import type { Decoder, Encoder } from './framing.js';
import { aeadSubkey, evpBytesToKey, pskHash2022 } from './kdf.js';
import { findMethod, type MethodSpec } from './methods.js';
import { SaltFilter } from './replay.js';
import { PlainDecoder, PlainEncoder, StreamDecoder, StreamEncoder } from './stream-framing.js';

const spec = (name: string): MethodSpec => findMethod(name) as MethodSpec;
const enc = (e: Encoder, ...list: Buffer[]): Buffer => {
  const out: Buffer[] = [];
  e.encode(list, out);
  return Buffer.concat(out);
};
/** Feeds `wire` in random pieces; returns the plaintext. */
function dec(d: Decoder, wire: Buffer, pieces = 7): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < wire.length) {
    const n = Math.min(wire.length - at, 1 + Math.floor(Math.random() * (wire.length / pieces + 1)));
    d.decode(wire.subarray(at, at + n), out);
    at += n;
  }
  return Buffer.concat(out);
}
const dest = { host: 'example.com', port: 443 };

for (const name of ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm', 'chacha20-ietf-poly1305', 'xchacha20-ietf-poly1305']) {
  test(`${name}: header rides with the first payload, bulk splits into full chunks, any split decodes`, () => {
    const s = spec(name);
    const key = evpBytesToKey('pw', s.keySize);
    const e = new AeadEncoder(s, key, encodeSocksAddress(dest));
    assert.equal(e.holding, true);
    // three small writes (as _writev hands them) → salt + ONE chunk
    const first = enc(e, Buffer.from('a'), Buffer.from('bc'), Buffer.from('d'));
    const addrLen = encodeSocksAddress(dest).length;
    assert.equal(first.length, s.saltSize + LENGTH_CHUNK_SIZE + addrLen + 4 + 16);
    const bulk = randomBytes(3 * AEAD_MAX_PAYLOAD + 5);
    const second = enc(e, bulk);
    assert.equal(second.length, 4 * (LENGTH_CHUNK_SIZE + 16) + bulk.length);
    const plain = dec(new AeadDecoder(s, key), Buffer.concat([first, second]));
    const a = readSocksAddress(plain, 0)!;
    assert.deepEqual(a.value, dest);
    assert.deepEqual(plain.subarray(a.length), Buffer.concat([Buffer.from('abcd'), bulk]));
  });
}

test('AEAD decoder: truncated, oversized, tampered and random input are PROTOCOL errors', () => {
  const s = spec('aes-256-gcm');
  const key = evpBytesToKey('pw', 32);
  const wire = enc(new AeadEncoder(s, key, encodeSocksAddress(dest)), Buffer.from('hello'));
  // truncated: every prefix decodes without output or error; end() then reports the cut
  for (let n = 0; n < wire.length; n++) {
    const d = new AeadDecoder(s, key);
    const out: Buffer[] = [];
    d.decode(wire.subarray(0, n), out);
    assert.equal(out.length, 0);
    if (n > s.saltSize) assert.throws(() => d.end(), (e: unknown) => hasCode(e, 'PROTOCOL'));
  }
  // tampered at every position of the first chunk
  for (let i = s.saltSize; i < wire.length; i += 3) {
    const bad = Buffer.from(wire);
    bad[i] ^= 0x40;
    assert.throws(() => dec(new AeadDecoder(s, key), bad), (e: unknown) => hasCode(e, 'PROTOCOL'));
  }
  // wrong key
  assert.throws(() => dec(new AeadDecoder(s, evpBytesToKey('other', 32)), wire), /authentication/);
  // random garbage never crashes, never yields plaintext
  for (let i = 0; i < 200; i++) {
    const d = new AeadDecoder(s, key);
    const out: Buffer[] = [];
    try {
      d.decode(randomBytes(Math.floor(Math.random() * 300)), out);
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
    }
    assert.equal(out.length, 0);
  }
});

test('AEAD decoder: a sealed length over 0x3FFF is refused', () => {
  const s = spec('aes-128-gcm');
  const key = evpBytesToKey('pw', 16);
  const salt = randomBytes(16);
  // a sealer allowing 0xFFFF (the 2022 cap) writes a 0x4000-byte chunk; SIP004 forbids it
  const sealer = new ChunkSealer(new AeadKey(s.aead!, aeadSubkey(key, salt)), 0xffff);
  const out: Buffer[] = [salt];
  sealer.seal([randomBytes(0x4000)], out);
  assert.throws(() => dec(new AeadDecoder(s, key), Buffer.concat(out)), /bad chunk length 16384/);
});

test('AEAD decoder: onSalt can refuse a replayed salt', () => {
  const s = spec('aes-128-gcm');
  const key = evpBytesToKey('pw', 16);
  const filter = new SaltFilter();
  const check = (salt: Buffer): void => {
    if (!filter.add(salt)) throw new Error('replay');
  };
  const wire = enc(new AeadEncoder(s, key, encodeSocksAddress(dest)), Buffer.from('x'));
  dec(new AeadDecoder(s, key, check), wire);
  assert.throws(() => dec(new AeadDecoder(s, key, check), wire), /replay/);
});

for (const name of ['aes-128-cfb', 'aes-192-ctr', 'chacha20-ietf', 'chacha20', 'xchacha20']) {
  test(`${name} stream: round trip in pieces`, () => {
    const s = spec(name);
    const key = evpBytesToKey('pw', s.keySize);
    const e = new StreamEncoder(s, key, encodeSocksAddress(dest));
    const body = randomBytes(70_000);
    const wire = Buffer.concat([enc(e, body.subarray(0, 5)), enc(e, body.subarray(5))]);
    const plain = dec(new StreamDecoder(s, key), wire, 50);
    const a = readSocksAddress(plain, 0)!;
    assert.deepEqual(a.value, dest);
    assert.deepEqual(plain.subarray(a.length), body);
  });
}

test('none: the address then the payload, in the clear', () => {
  const wire = enc(new PlainEncoder(encodeSocksAddress(dest)), Buffer.from('hi'));
  assert.deepEqual(wire, Buffer.concat([encodeSocksAddress(dest), Buffer.from('hi')]));
  assert.deepEqual(dec(new PlainDecoder(), wire), wire);
});

/** A 2022 client/server pair over one stream, both directions. */
function pair2022(name: string, psks: Buffer[], server: { psk: Buffer; users?: Map<string, { name: string; psk: Buffer }> }) {
  const s = spec(name);
  const session: Session2022 = {};
  const filter = new SaltFilter();
  let request: Request2022 | undefined;
  const serverDecoder = new Aead2022ServerDecoder(
    s,
    server,
    (salt) => {
      if (!filter.add(salt)) throw new Error('replayed salt');
    },
    (r) => (request = r),
  );
  return {
    s,
    clientEncoder: new Aead2022ClientEncoder(s, psks, dest, session),
    clientDecoder: new Aead2022ClientDecoder(s, psks, session),
    serverDecoder,
    request: () => request,
    session,
  };
}

for (const [name, size] of [['2022-blake3-aes-128-gcm', 16], ['2022-blake3-aes-256-gcm', 32], ['2022-blake3-chacha20-poly1305', 32]] as const) {
  test(`${name}: request and response round trip; replay and a foreign response are refused`, () => {
    const psk = randomBytes(size);
    const p = pair2022(name, [psk], { psk });
    const body = randomBytes(200_000);
    const wire = Buffer.concat([enc(p.clientEncoder, Buffer.from('GET /')), enc(p.clientEncoder, body)]);
    const got = dec(p.serverDecoder, wire, 30);
    assert.deepEqual(p.request()!.destination, dest);
    assert.deepEqual(got, Buffer.concat([Buffer.from('GET /'), body]));
    // the response: header + first payload, then chunks
    const se = new Aead2022ServerEncoder(p.s, p.request()!);
    assert.equal(enc(se).length, 0); // nothing to say yet: no header alone
    const resp = Buffer.concat([enc(se, Buffer.from('HTTP/1.1 200')), enc(se, body)]);
    assert.deepEqual(dec(p.clientDecoder, resp, 30), Buffer.concat([Buffer.from('HTTP/1.1 200'), body]));
    // the same request again: replayed salt
    const p2 = pair2022(name, [psk], { psk });
    const w2 = enc(p2.clientEncoder, Buffer.from('x'));
    const filterShared = new SaltFilter();
    const check = (salt: Buffer): void => {
      if (!filterShared.add(salt)) throw new Error('replayed salt');
    };
    dec(new Aead2022ServerDecoder(p2.s, { psk }, check, () => undefined), w2);
    assert.throws(() => dec(new Aead2022ServerDecoder(p2.s, { psk }, check, () => undefined), w2), /replayed salt/);
    // a response to another request (its salt is not ours) is refused
    const other = pair2022(name, [psk], { psk });
    enc(other.clientEncoder, Buffer.from('y'));
    assert.throws(() => dec(other.clientDecoder, resp), /another request salt/);
  });
}

test('2022 request without payload carries padding; header-only requests are valid', () => {
  const psk = randomBytes(16);
  const p = pair2022('2022-blake3-aes-128-gcm', [psk], { psk });
  const wire = enc(p.clientEncoder);
  assert.ok(wire.length > 16 + 11 + 16 + 16 + 1, 'padded');
  assert.equal(dec(p.serverDecoder, wire).length, 0);
  assert.deepEqual(p.request()!.destination, dest);
});

test('2022 multi-user: the identity header finds the user; an unknown uPSK is AUTH', () => {
  const ipsk = randomBytes(32);
  const alice = randomBytes(32);
  const users = new Map([[pskHash2022(alice).toString('hex'), { name: 'alice', psk: alice }]]);
  const p = pair2022('2022-blake3-aes-256-gcm', [ipsk, alice], { psk: ipsk, users });
  dec(p.serverDecoder, enc(p.clientEncoder, Buffer.from('hi')));
  assert.equal(p.request()!.user, 'alice');
  const q = pair2022('2022-blake3-aes-256-gcm', [ipsk, randomBytes(32)], { psk: ipsk, users });
  assert.throws(() => dec(q.serverDecoder, enc(q.clientEncoder, Buffer.from('hi'))), (e: unknown) => hasCode(e, 'AUTH'));
});

test('2022 server decoder: truncated and random input fail cleanly', () => {
  const psk = randomBytes(32);
  const p = pair2022('2022-blake3-aes-256-gcm', [psk], { psk });
  const wire = enc(p.clientEncoder, Buffer.from('hello'));
  for (let n = 0; n < wire.length; n += 5) {
    const d = new Aead2022ServerDecoder(p.s, { psk }, () => undefined, () => undefined);
    d.decode(wire.subarray(0, n), []);
    assert.throws(() => d.end(), (e: unknown) => hasCode(e, 'PROTOCOL'));
  }
  for (let i = 0; i < 200; i++) {
    const d = new Aead2022ServerDecoder(p.s, { psk }, () => undefined, () => assert.fail('no request from noise'));
    try {
      d.decode(randomBytes(Math.floor(Math.random() * 400)), []);
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
    }
  }
});
