import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { AeadKey } from './aead.js';
import { evpBytesToKey, pskHash2022, sessionSubkey2022 } from './kdf.js';
import { findMethod, type MethodSpec } from './methods.js';
import { newUdpSession, openPacket2022, sealPacket2022 } from './packet-2022.js';
import { PacketCodec } from './packet.js';
import { SaltFilter, SlidingWindow } from './replay.js';

const spec = (name: string): MethodSpec => findMethod(name) as MethodSpec;
const to = { host: '2001:db8::1', port: 53 };

for (const name of ['aes-128-gcm', 'xchacha20-ietf-poly1305', 'aes-256-cfb', 'chacha20-ietf', 'none']) {
  test(`${name} packets: round trip; truncated and random datagrams are refused`, () => {
    const s = spec(name);
    const codec = new PacketCodec(s, s.keySize ? evpBytesToKey('pw', s.keySize) : Buffer.alloc(0));
    const payload = randomBytes(300);
    const p = codec.decode(codec.encode(to, payload));
    assert.deepEqual(p.address, to);
    assert.deepEqual(p.payload, payload);
    if (s.kind === 'aead') {
      const wire = codec.encode(to, payload);
      for (let n = 0; n < wire.length; n += 7) assert.throws(() => codec.decode(wire.subarray(0, n)), (e: unknown) => hasCode(e, 'PROTOCOL'));
      for (let i = 0; i < 100; i++) assert.throws(() => codec.decode(randomBytes(i * 3)), (e: unknown) => hasCode(e, 'PROTOCOL'));
    } else {
      // no integrity: garbage either fails to parse or yields garbage, never a crash
      for (let i = 0; i < 100; i++) {
        try {
          codec.decode(randomBytes(i * 3));
        } catch (err) {
          assert.ok(hasCode(err, 'PROTOCOL'));
        }
      }
    }
  });
}

const keyCache = (s: MethodSpec) => (id: Buffer, psk: Buffer) => new AeadKey(s.aead!, sessionSubkey2022(psk, id));

for (const [name, size] of [['2022-blake3-aes-128-gcm', 16], ['2022-blake3-aes-256-gcm', 32], ['2022-blake3-chacha20-poly1305', 32]] as const) {
  test(`${name} packets: client → server → client, with ids, padding and the reply's client session id`, () => {
    const s = spec(name);
    const psk = randomBytes(size);
    const client = newUdpSession(s, psk);
    const a = sealPacket2022(s, [psk], client, to, Buffer.from('query'));
    const b = sealPacket2022(s, [psk], client, { host: 'example.org', port: 123 }, Buffer.from('second'));
    const got = openPacket2022(s, { psk }, a, false, keyCache(s));
    assert.deepEqual([got.address, got.payload.toString(), got.packetId], [to, 'query', 0]);
    assert.deepEqual(got.sessionId, client.id);
    assert.equal(openPacket2022(s, { psk }, b, false, keyCache(s)).packetId, 1);
    // a client packet is not a server packet
    assert.throws(() => openPacket2022(s, { psk }, a, true, keyCache(s)), /header type|cut short/);
    const server = newUdpSession(s, psk);
    const reply = sealPacket2022(s, [psk], server, to, Buffer.from('answer'), client.id);
    const r = openPacket2022(s, { psk }, reply, true, keyCache(s));
    assert.deepEqual([r.payload.toString(), r.clientSessionId], ['answer', client.id]);
    // tampering, truncation, noise, another key
    const bad = Buffer.from(a);
    bad[bad.length - 1] ^= 1;
    assert.throws(() => openPacket2022(s, { psk }, bad, false, keyCache(s)), (e: unknown) => hasCode(e, 'PROTOCOL'));
    for (let n = 0; n < a.length; n += 9) assert.throws(() => openPacket2022(s, { psk }, a.subarray(0, n), false, keyCache(s)));
    for (let i = 0; i < 100; i++) assert.throws(() => openPacket2022(s, { psk }, randomBytes(i * 4), false, keyCache(s)));
    assert.throws(() => openPacket2022(s, { psk: randomBytes(size) }, a, false, keyCache(s)));
  });
}

test('2022 UDP identity headers: the server finds the user by the uPSK hash', () => {
  const s = spec('2022-blake3-aes-128-gcm');
  const ipsk = randomBytes(16);
  const upsk = randomBytes(16);
  const users = new Map([[pskHash2022(upsk).toString('hex'), { name: 'u1', psk: upsk }]]);
  const client = newUdpSession(s, upsk);
  const p = sealPacket2022(s, [ipsk, upsk], client, to, Buffer.from('x'));
  const got = openPacket2022(s, { psk: ipsk, users }, p, false, keyCache(s));
  assert.deepEqual([got.user, got.payload.toString()], ['u1', 'x']);
  assert.deepEqual(got.psk, upsk);
  // replies are sealed with the user's key and opened with the client's last key
  const reply = sealPacket2022(s, [upsk], newUdpSession(s, upsk), to, Buffer.from('y'), client.id);
  assert.equal(openPacket2022(s, { psk: upsk }, reply, true, keyCache(s)).payload.toString(), 'y');
  const stranger = sealPacket2022(s, [ipsk, randomBytes(16)], newUdpSession(s, upsk), to, Buffer.from('x'));
  assert.throws(() => openPacket2022(s, { psk: ipsk, users }, stranger, false, keyCache(s)), (e: unknown) => hasCode(e, 'AUTH'));
});

test('sliding window: each id once, nothing older than the window', () => {
  const w = new SlidingWindow();
  for (const id of [0, 1, 5, 3]) {
    assert.equal(w.check(id), true);
    w.add(id);
  }
  for (const id of [0, 1, 3, 5]) assert.equal(w.check(id), false);
  assert.equal(w.check(4), true);
  w.add(10_000);
  assert.equal(w.check(4), false, 'fell out of the window');
  assert.equal(w.check(9_999), true);
  assert.equal(w.check(-1), false);
  assert.equal(w.check(2 ** 60), false, 'beyond safe integers');
});

test('salt filter: a salt is refused while remembered; memory stays bounded', () => {
  let now = 0;
  const f = new SaltFilter({ ttlMs: 1000, maxPerGeneration: 100, now: () => now });
  const a = randomBytes(16);
  assert.equal(f.add(a), true);
  assert.equal(f.add(a), false);
  now = 1500; // rotated once: still remembered in the previous generation
  assert.equal(f.add(a), false);
  now = 5000;
  assert.equal(f.add(randomBytes(16)), true);
  now = 9000;
  assert.equal(f.add(a), true, 'forgotten after two periods');
  for (let i = 0; i < 1000; i++) f.add(randomBytes(16));
  assert.ok(f.size <= 200);
});
