import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { addressArb, chunked, mutated, payloadArb, wire, type Chunked } from '../bytes.js';
import { MORE, ok, sameAtEverySplit, sameOverReads } from './check.js';
import { trojanRequestParser, trojanUsers } from '../../../src/inbound/server/trojan.js';
import { vlessRequestParser, vlessUsers } from '../../../src/inbound/server/vless.js';
import { VmessUserTable } from '../../../src/inbound/server/vmess.js';
import { encodeXudpEnd, encodeXudpFrame, XudpDecoder } from '../../../src/protocol/common/xudp.js';
import { encodeSocksAddress } from '../../../src/protocol/common/socks-address.js';
import { encodeTrojanRequest, trojanPasswordKey, TROJAN_CMD } from '../../../src/protocol/trojan/codec/header.js';
import { encodeTrojanPacket, TrojanPacketDecoder } from '../../../src/protocol/trojan/codec/packet.js';
import { encodeVlessRequest, parseVlessResponse } from '../../../src/protocol/vless/codec/header.js';
import { encodeLengthFrames, LengthFrameDecoder } from '../../../src/protocol/vless/codec/packet.js';
import { uuidBytes } from '../../../src/protocol/vless/codec/uuid.js';
import { ByteQueue } from '../../../src/protocol/vmess/codec/byte-queue.js';
import { ChunkReader, ChunkWriter } from '../../../src/protocol/vmess/codec/chunk.js';
import { sealAeadHeader } from '../../../src/protocol/vmess/codec/header.js';
import { decodeRequest, encodeRequest, OPTION } from '../../../src/protocol/vmess/codec/request.js';
import { openResponseHeader, responseKeys, sealResponseHeader } from '../../../src/protocol/vmess/codec/response.js';
import { framingFor } from '../../../src/protocol/vmess/codec/session.js';
import { userIdBytes, userKeys } from '../../../src/protocol/vmess/codec/user.js';
import { gcmSeal } from '../../../src/protocol/vmess/codec/header.js';
import { kdf, kdf16, KDF_SALT } from '../../../src/protocol/vmess/codec/kdf.js';

export const ID = randomUUID();
const vless = vlessRequestParser(vlessUsers([{ name: 'v', secret: ID }]));
const trojan = trojanRequestParser(trojanUsers([{ name: 't', secret: 'pw' }]));
const vmessKeys = userKeys(userIdBytes(ID));

export const vlessHead = fc
  .tuple(fc.constantFrom(1, 2, 3), addressArb, fc.uint8Array({ maxLength: 40 }), payloadArb)
  .map(([cmd, dest, addons, p]) => {
    const h = encodeVlessRequest(uuidBytes(ID), cmd as 1, cmd === 3 ? undefined : dest, p);
    if (addons.length === 0) return h;
    // the addons field (protobuf, skipped by us) with bytes in it
    return Buffer.concat([h.subarray(0, 17), Buffer.from([addons.length]), addons, h.subarray(18)]);
  });
export const trojanHead = fc
  .tuple(fc.constantFrom(TROJAN_CMD.CONNECT, TROJAN_CMD.UDP_ASSOCIATE, 2), addressArb, payloadArb, fc.boolean())
  .map(([cmd, dest, p, wrong]) => encodeTrojanRequest(trojanPasswordKey(wrong ? 'other' : 'pw'), cmd as 1, dest, p));

const request = fc.record({
  bodyIv: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((u) => Buffer.from(u)),
  bodyKey: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((u) => Buffer.from(u)),
  responseAuth: fc.integer({ min: 0, max: 255 }),
  option: fc.integer({ min: 0, max: 255 }),
  security: fc.integer({ min: 0, max: 15 }),
  command: fc.constantFrom(1, 2, 3, 4),
  destination: addressArb,
});
const plainRequest = fc.tuple(request, fc.integer({ min: 0, max: 15 })).map(([r, p]) => encodeRequest(r, p));

/** A sealed VMess AEAD request whose plaintext header (mutated or not) is properly sealed. */
export const vmessSealed = fc
  .tuple(fc.oneof(plainRequest, mutated(plainRequest), fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u))), fc.oneof(fc.constant(0), fc.integer({ min: -115, max: 115 }), fc.integer({ min: 125, max: 400 }), fc.integer({ min: -400, max: -125 })), payloadArb)
  .map(([h, skew, rest]) => Buffer.concat([sealAeadHeader(vmessKeys, h, Math.floor(Date.now() / 1000) + skew), rest]));

/** VMess AEAD sealed length with an arbitrary value (the header length field at its limits). */
const vmessLengthLie = fc.tuple(fc.constantFrom(0, 1, 41, 42, 0x7fff, 0xffff), payloadArb).map(([n, tail]) => {
  const h = sealAeadHeader(vmessKeys, Buffer.alloc(42), Math.floor(Date.now() / 1000));
  // re-seal the length field with the lie; the auth ID and nonce stay valid
  const len = Buffer.alloc(2);
  len.writeUInt16BE(n);
  const sealed = h.subarray(0, 16);
  const nonce = h.subarray(34, 42);
  return { h, len, sealed, nonce, tail };
});

const RESP = responseKeys(Buffer.alloc(16, 1), Buffer.alloc(16, 2));
const responseHead = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
  .map(([auth, cmd, data]) => sealResponseHeader(RESP, { responseAuth: auth, option: 0, command: cmd, commandData: Buffer.from(data) }));

const options = fc.subarray([OPTION.CHUNK_STREAM, OPTION.CHUNK_MASKING, OPTION.GLOBAL_PADDING, OPTION.AUTHENTICATED_LENGTH]).map((bits) => bits.reduce((a: number, b: number) => a | b, OPTION.CHUNK_STREAM as number));
const framing = (option: number, security: number) => framingFor(option, security, Buffer.alloc(16, 3), Buffer.alloc(16, 4), Buffer.alloc(16, 3), Buffer.alloc(16, 4))!;

export const v2rayTargets: FuzzTarget<any>[] = [
  {
    name: 'vless-request-listener',
    arbitrary: chunked(wire(vlessHead)),
    run: (input: Chunked) =>
      sameAtEverySplit(input, (b) => {
        const r = vless(b);
        return r === undefined ? MORE : ok(r);
      }),
  },
  {
    name: 'vless-response-client',
    arbitrary: chunked(wire(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.concat([Buffer.from([0, a.length]), a])))),
    run: (input: Chunked) =>
      sameAtEverySplit(input, (b) => {
        const r = parseVlessResponse(b);
        return r === undefined ? MORE : ok(r);
      }),
  },
  {
    name: 'vless-udp-frames',
    arbitrary: chunked(wire(fc.array(payloadArb, { maxLength: 4 }).map((ps) => Buffer.concat(ps.flatMap((p) => encodeLengthFrames(p)))))),
    run: (input: Chunked) =>
      sameOverReads(input, () => {
        const d = new LengthFrameDecoder();
        return (c) => d.push(c).map((p) => p.toString('hex'));
      }),
  },
  {
    name: 'trojan-request-listener',
    arbitrary: chunked(wire(trojanHead)),
    run: (input: Chunked) =>
      sameAtEverySplit(input, (b) => {
        const r = trojan(b);
        return r === undefined ? MORE : ok(r);
      }),
  },
  {
    name: 'trojan-udp-frames',
    arbitrary: chunked(wire(fc.array(fc.tuple(addressArb, payloadArb), { maxLength: 4 }).map((fs) => Buffer.concat(fs.map(([a, p]) => encodeTrojanPacket(a, p)))))),
    run: (input: Chunked) =>
      sameOverReads(input, () => {
        const d = new TrojanPacketDecoder();
        return (c) => d.push(c).map((p) => `${JSON.stringify(p.from)}${p.data.toString('hex')}`);
      }),
  },
  {
    name: 'xudp-frames',
    arbitrary: chunked(
      wire(
        fc
          .array(fc.tuple(fc.boolean(), addressArb, payloadArb, fc.boolean()), { maxLength: 4 })
          .map((fs) => Buffer.concat([...fs.map(([first, a, p, gid]) => encodeXudpFrame(first, a, p, gid ? randomBytes(8) : undefined)), encodeXudpEnd()])),
      ),
    ),
    run: (input: Chunked) =>
      sameOverReads(input, () => {
        const d = new XudpDecoder();
        let ended = false;
        return (c) => {
          const out: string[] = [];
          if (ended) return out;
          if (d.push(c, { datagram: (data, from) => void out.push(`${JSON.stringify(from)}${data.toString('hex')}`) })) {
            ended = true;
            out.push('<end>');
          }
          return out;
        };
      }),
  },
  {
    name: 'vmess-request-listener',
    weight: 0.3,
    arbitrary: chunked(fc.oneof({ weight: 3, arbitrary: vmessSealed }, { weight: 1, arbitrary: wire(vmessSealed) })),
    run(input: Chunked) {
      // a fresh table per parse: the replay filter would refuse the second look at one auth ID
      sameAtEverySplit(input, (b) => {
        const r = new VmessUserTable([{ name: 'm', secret: ID }]).parse(b);
        return r === undefined ? MORE : ok({ user: r.value.user, h: r.value.header, n: r.length });
      });
    },
  },
  {
    name: 'vmess-header-length-field',
    weight: 0.3,
    arbitrary: vmessLengthLie,
    run({ h, len, sealed, nonce, tail }: { h: Buffer; len: Buffer; sealed: Buffer; nonce: Buffer; tail: Buffer }) {
      const out = Buffer.from(h);
      const k = vmessKeys.cmdKey;
      gcmSeal(kdf16(k, KDF_SALT.HEADER_LEN_KEY, sealed, nonce), kdf(k, KDF_SALT.HEADER_LEN_IV, sealed, nonce).subarray(0, 12), len, sealed, out, 16);
      const r = new VmessUserTable([{ name: 'm', secret: ID }]).parse(Buffer.concat([out, tail]));
      if (r && r.length > out.length + tail.length) throw new Invariant('header longer than the input');
    },
  },
  { name: 'vmess-request-plaintext', arbitrary: wire(plainRequest), run: (b: Buffer) => void decodeRequest(b) },
  {
    name: 'vmess-response-client',
    weight: 0.5,
    arbitrary: chunked(wire(responseHead)),
    run: (input: Chunked) =>
      sameAtEverySplit(input, (b) => {
        const r = openResponseHeader(RESP, b);
        return r === undefined ? MORE : ok(r);
      }),
  },
  {
    name: 'vmess-body-chunks',
    weight: 0.3,
    arbitrary: fc.tuple(options, fc.constantFrom(3, 4, 5)).chain(([option, security]) =>
      fc.tuple(
        fc.constant([option, security] as const),
        chunked(
          wire(
            fc.array(fc.oneof(payloadArb, fc.constant(Buffer.alloc(20_000, 1))), { maxLength: 3 }).map((ps) => {
              const w = new ChunkWriter(framing(option, security));
              return Buffer.concat([...ps.filter((p) => p.length > 0).map((p) => w.stream(p)), w.end()]);
            }),
          ),
        ),
      ),
    ),
    run([[option, security], input]: [readonly [number, number], Chunked]) {
      sameOverReads(input, () => {
        const r = new ChunkReader(framing(option, security));
        const q = new ByteQueue();
        let eof = false;
        return (c) => {
          const out: string[] = [];
          if (eof) return out;
          q.push(c);
          for (let i = 0; i < 10_000; i++) {
            const p = r.next(q);
            if (p === undefined) break;
            if (p === null) {
              eof = true;
              out.push('<eof>');
              break;
            }
            out.push(p.toString('hex'));
          }
          return out;
        };
      });
    },
  },
];
