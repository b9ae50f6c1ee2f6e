import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Invariant, isTyped, type FuzzTarget } from '../harness.js';
import { addressArb, chunked, mutated, payloadArb, reads, wire, type Chunked } from '../bytes.js';
import { sameOverReads } from './check.js';
import { duplexPair } from '../../../src/common/duplex-pair.js';
import { encodeSocksAddress, UOT_FAMILIES } from '../../../src/protocol/common/socks-address.js';
import { AeadKey } from '../../../src/protocol/shadowsocks/codec/aead.js';
import { AeadDecoder } from '../../../src/protocol/shadowsocks/codec/aead-framing.js';
import { Aead2022ClientDecoder } from '../../../src/protocol/shadowsocks/codec/aead2022-client.js';
import { aesBlock } from '../../../src/protocol/shadowsocks/codec/aes-block.js';
import { AEAD_MAX_PAYLOAD, ChunkSealer } from '../../../src/protocol/shadowsocks/codec/chunks.js';
import { parseRequestFixed, parseRequestVariable, parseResponseFixed } from '../../../src/protocol/shadowsocks/codec/header-2022.js';
import { aeadSubkey, sessionSubkey2022 } from '../../../src/protocol/shadowsocks/codec/kdf.js';
import { findMethod, type MethodSpec } from '../../../src/protocol/shadowsocks/codec/methods.js';
import { openPacket2022 } from '../../../src/protocol/shadowsocks/codec/packet-2022.js';
import { PacketCodec } from '../../../src/protocol/shadowsocks/codec/packet.js';
import { SaltFilter } from '../../../src/protocol/shadowsocks/codec/replay.js';
import { UotFrameDecoder } from '../../../src/protocol/shadowsocks/codec/uot.js';
import { serverKeys } from '../../../src/protocol/shadowsocks/server-keys.js';
import { serverStream } from '../../../src/protocol/shadowsocks/server-stream.js';

const spec = (name: string): MethodSpec => {
  const m = findMethod(name);
  if ('unsupported' in m) throw new Error(m.unsupported);
  return m;
};

const AEAD = 'aes-128-gcm';
const SS2022 = '2022-blake3-aes-128-gcm';
const PSK = Buffer.alloc(16, 7);
const keysAead = serverKeys(AEAD, 'fuzz-password');
const keys2022 = serverKeys(SS2022, PSK.toString('base64'));

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
};
const edge16 = fc.oneof(fc.constantFrom(0, 1, 2, 0x3fff, 0x4000, 0xffff), fc.integer({ min: 0, max: 0xffff }));
const now = (): number => Math.floor(Date.now() / 1000);
// clock skews clear of the 30 s limit by 5 s either way: a case at the edge would pass or fail by
// when the second ticks, not by what the parser does
const ts = fc.oneof(fc.constant(0), fc.constantFrom(-36, 36, -1e9, 1e9), fc.integer({ min: -25, max: 25 }), fc.integer({ min: 35, max: 100 }));

/** salt + each plaintext sealed in order (the length chunks included): valid crypto, any content. */
function sealAll(salt: Buffer, key: AeadKey, plains: readonly Buffer[]): Buffer {
  const s = new ChunkSealer(key, 0xffff);
  const out: Buffer[] = [salt];
  for (const p of plains) s.sealMessage(p, out);
  return Buffer.concat(out);
}

/** SIP004 client stream: length/payload chunk pairs whose plaintexts are mutated before sealing. */
const aeadStream = (master: Buffer, saltSize: number, withAddress: boolean): fc.Arbitrary<Buffer> =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.oneof(payloadArb, addressArb.map((a) => encodeSocksAddress(a))), fc.option(edge16, { nil: undefined })), { minLength: 1, maxLength: 4 }),
      withAddress ? addressArb : fc.constant(undefined),
      fc.boolean(),
    )
    .chain(([chunks, dest, mutate]) => {
      const plains: Buffer[] = [];
      chunks.forEach(([p, len], i) => {
        const payload = i === 0 && dest ? Buffer.concat([encodeSocksAddress(dest), p]) : p.length === 0 ? Buffer.from('x') : p;
        plains.push(u16(len ?? Math.min(payload.length, AEAD_MAX_PAYLOAD)), payload);
      });
      const salt = randomBytes(saltSize);
      const key = new AeadKey('aes-128-gcm', aeadSubkey(master, salt));
      if (!mutate) return fc.constant(sealAll(salt, key, plains));
      return fc.tuple(...plains.map((p) => fc.oneof({ weight: 3, arbitrary: fc.constant(p) }, { weight: 1, arbitrary: mutated(fc.constant(p)) }))).map((ps) => sealAll(salt, key, ps));
    });

/** SIP022 request: fixed header, variable header (address, padding, payload), then chunks. */
const stream2022 = fc
  .tuple(addressArb, fc.integer({ min: 0, max: 1000 }), payloadArb, ts, fc.option(edge16, { nil: undefined }), fc.array(payloadArb, { maxLength: 2 }), fc.integer({ min: 0, max: 2 }))
  .chain(([dest, padding, payload, skew, varLen, more, type]) => {
    const variable = Buffer.concat([encodeSocksAddress(dest), u16(padding), Buffer.alloc(Math.min(padding, 1000)), payload]);
    const fixed = Buffer.alloc(11);
    fixed[0] = type === 2 ? 0 : type;
    fixed.writeBigUInt64BE(BigInt(Math.max(0, now() + skew)), 1);
    fixed.writeUInt16BE(varLen ?? variable.length, 9);
    const plains: Buffer[] = [fixed, variable];
    for (const m of more) plains.push(u16(m.length), m);
    return fc.tuple(...plains.map((p) => fc.oneof({ weight: 3, arbitrary: fc.constant(p) }, { weight: 1, arbitrary: mutated(fc.constant(p)) }))).map((ps) => {
      const salt = randomBytes(16);
      return sealAll(salt, new AeadKey('aes-128-gcm', sessionSubkey2022(PSK, salt)), ps);
    });
  });

/**
 * Our Shadowsocks listener's stream (serverStream over an in-memory socket): the client's bytes
 * in the given reads, then its FIN. It must report the request or reject it, then end; any
 * error it emits must be typed.
 */
async function listenerRun(keys: ReturnType<typeof serverKeys>, input: Chunked): Promise<void> {
  const [client, server] = duplexPair();
  const untyped: unknown[] = [];
  let requests = 0;
  const s = serverStream(server, keys, new SaltFilter({ ttlMs: 60_000 }), {
    onRequest() {
      requests++;
    },
    onReject() {},
  });
  s.on('error', (e) => {
    if (!isTyped(e)) untyped.push(e);
  });
  client.on('error', () => {});
  client.resume();
  s.resume();
  const done = new Promise<void>((resolve) => {
    s.once('end', resolve);
    s.once('close', resolve);
  });
  for (const r of reads(input)) client.write(r);
  client.end();
  await done;
  s.destroy();
  client.destroy();
  if (untyped.length > 0) throw untyped[0];
  if (requests > 1) throw new Invariant(`${requests} requests on one stream`);
}

const seal2022Packet = (psk: Buffer, sessionId: Buffer, packetId: bigint, body: Buffer): Buffer => {
  const sep = Buffer.concat([sessionId, Buffer.alloc(8)]);
  sep.writeBigUInt64BE(packetId, 8);
  const key = new AeadKey('aes-128-gcm', sessionSubkey2022(psk, sessionId));
  return Buffer.concat([aesBlock(psk, sep), key.seal(sep.subarray(4, 16), body)]);
};

const packetBody2022 = (fromServer: boolean): fc.Arbitrary<Buffer> =>
  fc.tuple(fc.integer({ min: 0, max: 2 }), ts, fc.integer({ min: 0, max: 1000 }), addressArb, payloadArb).map(([type, skew, padding, to, payload]) => {
    const h = Buffer.alloc(1 + 8 + (fromServer ? 8 : 0) + 2);
    h[0] = type === 2 ? (fromServer ? 1 : 0) : type;
    h.writeBigUInt64BE(BigInt(Math.max(0, now() + skew)), 1);
    h.writeUInt16BE(padding, h.length - 2);
    return Buffer.concat([h, Buffer.alloc(Math.min(padding, 1000)), encodeSocksAddress(to), payload]);
  });

const keyFor = (id: Buffer, psk: Buffer): AeadKey => new AeadKey('aes-128-gcm', sessionSubkey2022(psk, id));
const aeadSpec = spec(AEAD);
const spec2022 = spec(SS2022);
const udpCodec = new PacketCodec(aeadSpec, keysAead.key);

export const shadowsocksTargets: FuzzTarget<any>[] = [
  {
    name: 'ss-aead-stream-listener',
    arbitrary: chunked(wire(aeadStream(keysAead.key, 16, true))),
    run: (input: Chunked) => listenerRun(keysAead, input),
    weight: 0.5,
    async: true,
  },
  {
    name: 'ss-2022-stream-listener',
    arbitrary: chunked(wire(stream2022)),
    run: (input: Chunked) => listenerRun(keys2022, input),
    weight: 0.5,
    async: true,
  },
  {
    name: 'ss-aead-stream-decoder',
    arbitrary: chunked(wire(aeadStream(keysAead.key, 16, false))),
    run(input: Chunked) {
      sameOverReads(input, () => {
        const d = new AeadDecoder(aeadSpec, keysAead.key);
        return (c) => {
          const out: Buffer[] = [];
          d.decode(c, out);
          return out.map((b) => b.toString('hex'));
        };
      });
    },
  },
  {
    name: 'ss-2022-client-decoder',
    // the server's response to a request whose salt is all 5s
    arbitrary: chunked(
      wire(
        fc.tuple(ts, fc.integer({ min: 0, max: 2 }), fc.option(edge16, { nil: undefined }), payloadArb, fc.boolean()).chain(([skew, type, first, payload, otherSalt]) => {
          const h = Buffer.alloc(1 + 8 + 16 + 2);
          h[0] = type === 2 ? 1 : type;
          h.writeBigUInt64BE(BigInt(Math.max(0, now() + skew)), 1);
          Buffer.alloc(16, otherSalt ? 6 : 5).copy(h, 9);
          h.writeUInt16BE(first ?? payload.length, 25);
          const plains: Buffer[] = [h, payload];
          return fc.tuple(...plains.map((p) => fc.oneof({ weight: 3, arbitrary: fc.constant(p) }, { weight: 1, arbitrary: mutated(fc.constant(p)) }))).map((ps) => {
            const salt = randomBytes(16);
            return sealAll(salt, new AeadKey('aes-128-gcm', sessionSubkey2022(PSK, salt)), ps);
          });
        }),
      ),
    ),
    run(input: Chunked) {
      sameOverReads(input, () => {
        const d = new Aead2022ClientDecoder(spec2022, [PSK], { requestSalt: Buffer.alloc(16, 5) } as never);
        return (c) => {
          const out: Buffer[] = [];
          d.decode(c, out);
          return out.map((b) => b.toString('hex'));
        };
      });
    },
  },
  {
    name: 'ss-2022-headers',
    arbitrary: fc.tuple(wire(fc.constant(Buffer.alloc(11))), wire(payloadArb), wire(fc.constant(Buffer.alloc(27)))),
    run([fixed, variable, response]: [Buffer, Buffer, Buffer]) {
      if (fixed.length >= 11) parseRequestFixed(fixed);
      try {
        const v = parseRequestVariable(variable);
        if (v.payload.length > variable.length) throw new Invariant('payload longer than its header');
      } catch (err) {
        if (!isTyped(err)) throw err;
      }
      if (response.length >= 27) parseResponseFixed(response, Buffer.alloc(16));
    },
  },
  {
    name: 'ss-aead-udp',
    arbitrary: wire(
      fc.tuple(addressArb, payloadArb, fc.boolean()).chain(([to, p, mut]) => {
        const plain = Buffer.concat([encodeSocksAddress(to), p]);
        return (mut ? mutated(fc.constant(plain)) : fc.constant(plain)).map((x) => {
          const salt = randomBytes(16);
          return Buffer.concat([salt, new AeadKey('aes-128-gcm', aeadSubkey(keysAead.key, salt)).seal(Buffer.alloc(12), x)]);
        });
      }),
    ),
    run(input: Buffer) {
      const p = udpCodec.decode(input);
      if (p.payload.length > input.length) throw new Invariant('payload longer than the packet');
    },
  },
  {
    name: 'ss-2022-udp',
    arbitrary: fc.tuple(
      fc.boolean(),
      fc.boolean().chain((fromServer) =>
        wire(fc.tuple(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), wire(packetBody2022(fromServer))).map(([id, pid, body]) => seal2022Packet(PSK, Buffer.from(id), pid, body))),
      ),
    ),
    run([fromServer, packet]: [boolean, Buffer]) {
      openPacket2022(spec2022, { psk: PSK }, packet, fromServer, keyFor);
    },
  },
  {
    name: 'ss-uot-frames',
    arbitrary: fc.tuple(fc.boolean(), chunked(wire(fc.array(fc.tuple(addressArb, payloadArb), { maxLength: 3 }).map((fs) => Buffer.concat(fs.flatMap(([a, p]) => [encodeSocksAddress(a, UOT_FAMILIES), u16(p.length), p])))))),
    run([request, input]: [boolean, Chunked]) {
      sameOverReads(input, () => {
        const d = new UotFrameDecoder(request);
        return (c) => {
          const out: unknown[] = [];
          d.decode(c, out as never);
          return out.map((f) => JSON.stringify(f));
        };
      });
    },
  },
];
