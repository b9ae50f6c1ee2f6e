import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { QuicClientHello, readInitialDatagram, sniffQuic } from '../../src/sniffer/quic.js';
import { initialKeys, QUIC_VERSIONS } from '../../src/sniffer/quic-keys.js';
import { captureClientHello, handshakeOf } from './hello.js';
import { cryptoFrame, sealInitial } from './quic-seal.js';

const A2 = Buffer.from(readFileSync(new URL('./rfc9001-a2.hex', import.meta.url), 'utf8').trim(), 'hex');
const V1 = QUIC_VERSIONS.get(1)!;

describe('QUIC Initial (RFC 9001)', () => {
  test('appendix A.1: the client Initial keys of DCID 8394c8f03e515708', () => {
    const k = initialKeys(V1, Buffer.from('8394c8f03e515708', 'hex'));
    assert.equal(k.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
    assert.equal(k.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
    assert.equal(k.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
    const s = initialKeys(V1, Buffer.from('8394c8f03e515708', 'hex'), 'server');
    assert.equal(s.key.toString('hex'), 'cf3a5331653c364c88f0f379b6067e37');
    assert.equal(s.iv.toString('hex'), '0ac1493ca1905853b0bba03e');
    assert.equal(s.hp.toString('hex'), 'c206b8d9b9f0f37644430b490eeaa314');
  });

  test('appendix A.2: the sample client Initial opens and names example.com; the input is unchanged', () => {
    assert.equal(A2.length, 1200);
    const copy = Buffer.from(A2);
    const r = readInitialDatagram(A2);
    assert.equal(r.kind, 'initial');
    if (r.kind === 'initial') {
      assert.equal(r.dcid.toString('hex'), '8394c8f03e515708');
      assert.equal(r.chunks.length, 1);
      assert.equal(r.chunks[0].offset, 0);
      assert.equal(r.chunks[0].data.length, 241);
      assert.equal(r.chunks[0].data.subarray(0, 4).toString('hex'), '010000ed');
    }
    assert.deepEqual(sniffQuic(A2), { kind: 'host', host: 'example.com' });
    assert.deepEqual(A2, copy);
  });

  test('one bit flipped anywhere in A.2 and it does not open', () => {
    for (const bit of [0, 8 * 30, 8 * 600 + 3, 8 * 1199 + 7]) {
      const bad = Buffer.from(A2);
      bad[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(sniffQuic(bad).kind, 'fail', `bit ${bit}`);
    }
  });

  test('an Initial we seal (v1, draft-29, v2) with a real ClientHello names its SNI', async () => {
    // one key share (X25519): Bun's default ClientHello (BoringSSL) does not fit one 1200-byte Initial
    const hs = handshakeOf(await captureClientHello('quic.example.test', { ALPNProtocols: ['h3'], ecdhCurve: 'X25519' }));
    for (const version of [1, 0xff00001d, 0x6b3343cf]) {
      for (const pnLength of [1, 2, 4]) {
        const dg = sealInitial({ version, pnLength, dcid: randomBytes(8), scid: randomBytes(4), payload: cryptoFrame(0, hs), pad: true });
        assert.equal(dg.length, 1200);
        assert.deepEqual(sniffQuic(dg), { kind: 'host', host: 'quic.example.test' }, `version ${version.toString(16)} pn ${pnLength}`);
      }
    }
  });

  test('a ClientHello over three Initial datagrams, out of order, with ACK/PING/PADDING around', async () => {
    const hs = handshakeOf(await captureClientHello('split.quic.test'));
    const dcid = randomBytes(8);
    const a = hs.subarray(0, 100);
    const b = hs.subarray(100, 180);
    const c = hs.subarray(180);
    const dgs = [
      sealInitial({ dcid, packetNumber: 2, payload: Buffer.concat([Buffer.of(0x01), cryptoFrame(180, c)]), pad: true }),
      sealInitial({ dcid, packetNumber: 0, payload: Buffer.concat([cryptoFrame(0, a), Buffer.of(0x02, 0x00, 0x00, 0x00, 0x00)]), pad: true }),
      sealInitial({ dcid, packetNumber: 1, payload: cryptoFrame(100, b), pad: true }),
    ];
    const asm = new QuicClientHello();
    assert.equal(asm.push(dgs[0]).kind, 'more');
    assert.equal(asm.push(dgs[1]).kind, 'more');
    // a datagram of another connection in between is ignored
    assert.equal(asm.push(sealInitial({ dcid: randomBytes(8), payload: cryptoFrame(0, hs), pad: true })).kind, 'more');
    assert.deepEqual(asm.push(dgs[2]), { kind: 'host', host: 'split.quic.test' });
  });

  test('two Initial packets coalesced in one datagram', async () => {
    const hs = handshakeOf(await captureClientHello('coalesced.quic.test'));
    const dcid = randomBytes(8);
    const dg = Buffer.concat([
      sealInitial({ dcid, packetNumber: 0, payload: cryptoFrame(0, hs.subarray(0, 50)) }),
      sealInitial({ dcid, packetNumber: 1, payload: cryptoFrame(50, hs.subarray(50)) }),
    ]);
    assert.deepEqual(sniffQuic(dg), { kind: 'host', host: 'coalesced.quic.test' });
  });

  test('garbage, a short header, a Version Negotiation, a wrong key: failures', () => {
    assert.equal(sniffQuic(randomBytes(1200)).kind, 'fail');
    assert.equal(sniffQuic(Buffer.alloc(0)).kind, 'fail');
    const short = Buffer.from(A2);
    short[0] = 0x40;
    assert.equal(sniffQuic(short).kind, 'fail');
    const vn = Buffer.concat([Buffer.from('c000000000', 'hex'), Buffer.alloc(30)]);
    assert.equal(sniffQuic(vn).kind, 'fail');
    const wrongDcid = Buffer.from(A2);
    wrongDcid[6] ^= 0xff; // the DCID, so the keys differ
    assert.deepEqual(sniffQuic(wrongDcid), { kind: 'fail', reason: 'not QUIC initial packet' });
  });

  test('a frame not allowed in Initial (STREAM) makes the packet not an Initial', async () => {
    const dg = sealInitial({ dcid: randomBytes(8), payload: Buffer.from('0800056869', 'hex'), pad: true });
    assert.deepEqual(sniffQuic(dg), { kind: 'fail', reason: 'not QUIC initial packet' });
  });
});
