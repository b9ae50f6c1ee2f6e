import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { chunked, payloadArb, reads, wire, type Chunked } from '../bytes.js';
import { sameOverReads } from './check.js';
import { duplexPair } from '../../../src/common/duplex-pair.js';
import type { FrameSink } from '../../../src/transport/framed-duplex.js';
import { encodeGun, GunCodec } from '../../../src/transport/gun-codec.js';
import { readHead } from '../../../src/transport/http-head.js';
import { appDataRecords, ObfsTlsClientCodec } from '../../../src/transport/plugin/obfs-tls-codec.js';
import { endFrame, keepFrames, MuxCoolClientCodec, newFrame } from '../../../src/transport/plugin/mux-cool.js';
import { encodeFrame, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, WsFrameReader } from '../../../src/transport/ws-frame.js';

/** Feeds a FrameCodec and renders what it produced (payload, replies, eof) as text. */
function codecFeed(codec: { decode(d: Buffer, s: FrameSink): void }): (c: Buffer) => string[] {
  return (c) => {
    const out: string[] = [];
    codec.decode(c, {
      push: (p) => void out.push(p.toString('hex')),
      reply: (b) => void out.push(`<reply ${b.length}>`),
      eof: () => void out.push('<eof>'),
    });
    return out;
  };
}

const opcode = fc.constantFrom(OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, 3, 0xb);
const bigPayload = fc.oneof({ weight: 5, arbitrary: payloadArb }, { weight: 1, arbitrary: fc.integer({ min: 126, max: 70_000 }).map((n) => Buffer.alloc(n, 0x61)) });
const wsFrames = (mask: boolean): fc.Arbitrary<Buffer> =>
  fc.array(fc.tuple(opcode, bigPayload), { minLength: 1, maxLength: 4 }).map((fs) => Buffer.concat(fs.map(([op, p]) => encodeFrame(op, op >= 8 ? p.subarray(0, 125) : p, mask))));

function wsTarget(name: string, masked: boolean): FuzzTarget<Chunked> {
  return {
    name,
    weight: 0.3,
    arbitrary: chunked(wire(wsFrames(masked))),
    run(input) {
      sameOverReads(input, () => {
        const r = new WsFrameReader({ masked });
        return (c) => {
          const out: string[] = [];
          r.feed(c, {
            data: (p) => void out.push(p.toString('hex')),
            control: (op, p) => {
              if (p.length > 125) throw new Invariant(`control frame of ${p.length} bytes`);
              out.push(`<${op} ${p.toString('hex')}>`);
            },
          });
          return out;
        };
      });
    },
  };
}

const gunMessages = fc.array(bigPayload, { minLength: 1, maxLength: 3 }).map((ps) => Buffer.concat(ps.map(encodeGun)));
const tlsRecords = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom(0x14, 0x16, 0x17, 0x15), payloadArb), { maxLength: 3 }), bigPayload)
  .map(([pre, data]) => {
    const parts = pre.map(([t, p]) => {
      const h = Buffer.from([t, 3, 3, 0, 0]);
      h.writeUInt16BE(p.length, 3);
      return Buffer.concat([h, p]);
    });
    return Buffer.concat([Buffer.from([0x16, 3, 3, 0, 1, 0]), Buffer.from([0x14, 3, 3, 0, 1, 1]), ...parts, appDataRecords(data)]);
  });
const muxFrames = fc
  .array(fc.tuple(fc.constantFrom(0, 1, 2), fc.constantFrom('new', 'keep', 'end'), payloadArb), { minLength: 1, maxLength: 4 })
  .map((fs) => Buffer.concat(fs.map(([id, k, p]) => (k === 'new' ? newFrame(id) : k === 'end' ? endFrame(id) : keepFrames(id, p.length ? p : Buffer.from('x'))))));

const responseHead = fc
  .tuple(fc.constantFrom('101 Switching Protocols', '200 OK', '400', 'abc'), fc.array(fc.stringMatching(/^[ -~]{0,30}$/), { maxLength: 6 }), payloadArb)
  .map(([s, hs, rest]) => Buffer.concat([Buffer.from(`HTTP/1.1 ${s}\r\n${hs.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1'), rest]));

export const transportTargets: FuzzTarget<any>[] = [
  wsTarget('ws-frames-from-client', true),
  wsTarget('ws-frames-from-server', false),
  { name: 'grpc-gun-frames', weight: 0.5, arbitrary: chunked(wire(gunMessages)), run: (input: Chunked) => sameOverReads(input, () => codecFeed(new GunCodec())) },
  { name: 'obfs-tls-records', arbitrary: chunked(wire(tlsRecords)), run: (input: Chunked) => sameOverReads(input, () => codecFeed(new ObfsTlsClientCodec('example.com'))) },
  { name: 'v2ray-plugin-mux-cool', arbitrary: chunked(wire(muxFrames)), run: (input: Chunked) => sameOverReads(input, () => codecFeed(new MuxCoolClientCodec(0))) },
  {
    // the server's head as obfs=http, httpupgrade and the WebSocket client read it
    name: 'http-upgrade-head-stream',
    arbitrary: fc.tuple(chunked(wire(responseHead)), fc.integer({ min: 16, max: 4096 })),
    async run([input, limit]: [Chunked, number]) {
      const [a, b] = duplexPair();
      a.on('error', () => {});
      const head = readHead(b, new AbortController().signal, limit);
      for (const r of reads(input)) a.write(r);
      a.end();
      try {
        const h = await head;
        if (h.rest.length > input.bytes.length) throw new Invariant('rest longer than the input');
      } finally {
        a.destroy();
        b.destroy();
      }
    },
    weight: 0.5,
    async: true,
  },
];
