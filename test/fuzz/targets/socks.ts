import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { addressArb, chunked, payloadArb, wire, type Chunked } from '../bytes.js';
import { BAD, MORE, ok, outcome, sameAtEverySplit, type Outcome } from './check.js';
import { decodeUdpHeader, parseGreeting, parseRequest, parseSocks4Request, parseUserPass, type Parsed } from '../../../src/inbound/socks-codec.js';
import { encodeSocksAddress } from '../../../src/protocol/common/socks-address.js';
import { parseAuthStatus, parseMethodChoice, parseReply } from '../../../src/protocol/socks5/codec/handshake.js';
import { decodeUdpFrame } from '../../../src/protocol/socks5/codec/udp-frame.js';
import type { ParseStep } from '../../../src/protocol/common/read-message.js';

/** Addresses the SOCKS encoder accepts (a domain of 1..255 bytes, or an IP). */
const encodable = addressArb.map((a) => encodeSocksAddress(a));

const fromParsed = <T>(r: Parsed<T>): Outcome => (r.kind === 'more' ? MORE : r.kind === 'bad' ? BAD : ok({ v: r.value, n: r.length }));
const fromStep = <T>(r: ParseStep<T>): Outcome => (r === undefined ? MORE : ok(r));

function server(name: string, valid: fc.Arbitrary<Buffer>, parse: (b: Buffer) => Parsed<unknown>): FuzzTarget<Chunked> {
  return {
    name,
    arbitrary: chunked(wire(valid)),
    run(input) {
      const r = outcome(() => fromParsed(parse(input.bytes)));
      if (r.k === 'ok' && JSON.parse(r.v).n > input.bytes.length) throw new Invariant('parsed past the end of the input');
      sameAtEverySplit(input, (b) => fromParsed(parse(b)));
    },
  };
}

function client(name: string, valid: fc.Arbitrary<Buffer>, parse: (b: Buffer) => ParseStep<unknown>): FuzzTarget<Chunked> {
  return {
    name,
    arbitrary: chunked(wire(valid)),
    run(input) {
      sameAtEverySplit(input, (b) => fromStep(parse(b)));
    },
  };
}

const u8 = fc.integer({ min: 0, max: 255 });
const field = fc.uint8Array({ maxLength: 255 }).map((u) => Buffer.from(u));
const nulFree = fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u.map((x) => x || 1)));

export const socksTargets: FuzzTarget<Chunked>[] = [
  server(
    'socks5-greeting',
    fc.array(u8, { minLength: 1, maxLength: 255 }).map((ms) => Buffer.from([5, ms.length, ...ms])),
    parseGreeting,
  ),
  server(
    'socks5-userpass',
    fc.tuple(field, field).map(([u, p]) => Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p])),
    parseUserPass,
  ),
  server(
    'socks5-request',
    fc.tuple(fc.integer({ min: 1, max: 3 }), encodable).map(([cmd, a]) => Buffer.concat([Buffer.from([5, cmd, 0]), a])),
    parseRequest,
  ),
  server(
    'socks4-request',
    fc
      .tuple(fc.integer({ min: 0, max: 65535 }), fc.boolean(), fc.ipV4(), nulFree, nulFree)
      .map(([port, is4a, ip, user, host]) => {
        const h = Buffer.alloc(8);
        h[0] = 4;
        h[1] = 1;
        h.writeUInt16BE(port, 2);
        if (is4a) h.writeUInt32BE(1, 4);
        else ip.split('.').forEach((x, i) => (h[4 + i] = Number(x)));
        const parts = [h, user, Buffer.from([0])];
        if (is4a) parts.push(host, Buffer.from([0]));
        return Buffer.concat(parts);
      }),
    parseSocks4Request,
  ),
  {
    name: 'socks5-udp-header',
    arbitrary: chunked(wire(fc.tuple(encodable, payloadArb).map(([a, p]) => Buffer.concat([Buffer.from([0, 0, 0]), a, p])))),
    run(input) {
      const h = decodeUdpHeader(input.bytes);
      if (h && h.payloadOffset > input.bytes.length) throw new Invariant('payload offset past the datagram');
      const f = decodeUdpFrame(input.bytes);
      if (f && f.payloadOffset > input.bytes.length) throw new Invariant('payload offset past the datagram');
    },
  },
  client('socks5-client-method', fc.tuple(u8).map(([m]) => Buffer.from([5, m])), parseMethodChoice),
  client('socks5-client-auth', fc.tuple(u8).map(([s]) => Buffer.from([1, s])), parseAuthStatus),
  client(
    'socks5-client-reply',
    fc.tuple(u8, encodable).map(([rep, a]) => Buffer.concat([Buffer.from([5, rep, 0]), a])),
    parseReply,
  ),
];
