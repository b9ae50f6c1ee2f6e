import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { encodeSocksAddress, readSocksAddress, UOT_FAMILIES } from '../../common/socks-address.js';
import type { Packet } from './packet.js';
import { encodeUotFrame, UotFrameDecoder, uotDestination, uotRequest, uotVersionOf } from './uot.js';

test('SOCKS addresses: IPv4, IPv6 (mapped → IPv4), domain; truncation and bad types', () => {
  for (const a of [
    { host: '1.2.3.4', port: 80 },
    { host: '2001:db8::1', port: 443 },
    { host: 'example.com', port: 8080 },
  ]) {
    const b = encodeSocksAddress(a);
    assert.deepEqual(readSocksAddress(b, 0), { value: a, length: b.length });
    for (let n = 0; n < b.length; n++) assert.equal(readSocksAddress(b.subarray(0, n), 0), undefined);
    const u = encodeSocksAddress(a, UOT_FAMILIES);
    assert.deepEqual(readSocksAddress(u, 0, UOT_FAMILIES)?.value, a);
  }
  assert.deepEqual(readSocksAddress(encodeSocksAddress({ host: '::ffff:10.0.0.1', port: 1 }), 0)?.value, { host: '10.0.0.1', port: 1 });
  assert.throws(() => readSocksAddress(Buffer.from([9, 0, 0]), 0), (e: unknown) => hasCode(e, 'PROTOCOL'));
  assert.throws(() => readSocksAddress(Buffer.from([3, 0, 0, 0]), 0), /empty domain/);
  assert.throws(() => encodeSocksAddress({ host: 'a'.repeat(256), port: 1 }), (e: unknown) => hasCode(e, 'PROTOCOL'));
});

test('UoT magic destinations and the version 2 request', () => {
  assert.equal(uotDestination(1).host, 'sp.udp-over-tcp.arpa');
  assert.equal(uotDestination(2).host, 'sp.v2.udp-over-tcp.arpa');
  assert.equal(uotVersionOf(uotDestination(2)), 2);
  assert.equal(uotVersionOf({ host: 'example.com', port: 0 }), undefined);
  const r = uotRequest({ host: '1.2.3.4', port: 53 });
  assert.deepEqual([...r], [0, 1, 1, 2, 3, 4, 0, 53]);
});

test('UoT frames survive any split; a v2 stream starts with its request', () => {
  const packets = [
    { address: { host: '1.2.3.4', port: 53 }, payload: randomBytes(100) },
    { address: { host: 'example.com', port: 5353 }, payload: Buffer.alloc(0) },
    { address: { host: '2001:db8::2', port: 9 }, payload: randomBytes(2000) },
  ];
  const wire = Buffer.concat([uotRequest({ host: '9.9.9.9', port: 1 }), ...packets.map((p) => encodeUotFrame(p.address, p.payload))]);
  for (const step of [1, 3, 17, wire.length]) {
    const d = new UotFrameDecoder(true);
    const out: Packet[] = [];
    for (let at = 0; at < wire.length; at += step) d.decode(wire.subarray(at, at + step), out);
    assert.deepEqual(out, packets);
  }
  assert.throws(() => encodeUotFrame({ host: '1.2.3.4', port: 1 }, Buffer.alloc(70_000)), (e: unknown) => hasCode(e, 'PROTOCOL'));
  // noise: an error or nothing, never a crash
  for (let i = 0; i < 200; i++) {
    try {
      new UotFrameDecoder(i % 2 === 0).decode(randomBytes(i), []);
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
    }
  }
});
