import { randomBytes } from 'node:crypto';
import { ProxyError } from '../../core/errors.js';
import type { FrameCodec, FrameSink } from '../framed-duplex.js';

// simple-obfs `obfs=tls`: the client's first payload rides in the session-ticket extension of a
// fake TLS 1.2 ClientHello; the server answers with a fake ServerHello, ChangeCipherSpec and a
// "finished" handshake record carrying its first payload; after that both sides wrap payload in
// application-data records. The byte layout follows simple-obfs' obfs_tls.c (the peer we must
// satisfy: obfs-server checks the record and handshake types, versions and the ticket type).

/** simple-obfs' server rejects application-data records longer than this. */
export const MAX_RECORD = 16384;

// the fixed parts of simple-obfs' ClientHello, as the wire shows them
const CIPHER_SUITES = Buffer.from(
  'c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff',
  'hex',
);
const OTHER_EXTENSIONS = Buffer.concat([
  Buffer.from('000b000403010002', 'hex'), // ec_point_formats: uncompressed, ansiX962 prime, char2
  Buffer.from('000a000a0008001d001700190018', 'hex'), // groups: x25519, P-256, P-521, P-384
  Buffer.from('000d0020001e060106020603050105020503040104020403030103020303020102020203', 'hex'), // signature algorithms
  Buffer.from('00160000', 'hex'), // encrypt_then_mac
  Buffer.from('00170000', 'hex'), // extended_master_secret
]);

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

/** The fake ClientHello record carrying `data` (≤ 65535 bytes) and SNI `host`. */
export function clientHello(data: Buffer, host: string, nowSeconds = Math.floor(Date.now() / 1000), rnd = randomBytes(60)): Buffer {
  const name = Buffer.from(host, 'latin1');
  const ticket = Buffer.concat([u16(0x0023), u16(data.length), data]);
  const sni = Buffer.concat([u16(0x0000), u16(name.length + 5), u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const extensions = Buffer.concat([ticket, sni, OTHER_EXTENSIONS]);
  const time = Buffer.alloc(4);
  time.writeUInt32BE(nowSeconds >>> 0);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // client_version TLS 1.2
    time,
    rnd.subarray(0, 28), // random
    Buffer.from([32]),
    rnd.subarray(28, 60), // session id
    u16(CIPHER_SUITES.length),
    CIPHER_SUITES,
    Buffer.from([0x01, 0x00]), // one compression method: null
    u16(extensions.length),
    extensions,
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

/** Application-data records for `data`, each at most MAX_RECORD bytes, in one buffer. */
export function appDataRecords(data: Buffer): Buffer {
  const n = Math.ceil(data.length / MAX_RECORD);
  const out = Buffer.allocUnsafe(data.length + 5 * n);
  let o = 0;
  for (let i = 0; i < data.length; i += MAX_RECORD) {
    const len = Math.min(MAX_RECORD, data.length - i);
    out[o] = 0x17;
    out[o + 1] = 0x03;
    out[o + 2] = 0x03;
    out.writeUInt16BE(len, o + 3);
    data.copy(out, o + 5, i, i + len);
    o += 5 + len;
  }
  return out;
}

/** The client side of simple-obfs tls as a FrameCodec. */
export class ObfsTlsClientCodec implements FrameCodec {
  readonly #host: string;
  #helloSent = false;
  /** record header bytes collected (a header may straddle chunks) */
  readonly #head = Buffer.alloc(5);
  #headLen = 0;
  /** payload bytes left in the current record; -1 between records */
  #remaining = -1;
  /** whether the current record's payload is data for our reader */
  #isData = false;
  /** records before the server's ChangeCipherSpec are handshake filler */
  #seenCcs = false;

  constructor(host: string) {
    this.#host = host;
  }

  encode(chunk: Buffer): Buffer {
    if (this.#helloSent) return appDataRecords(chunk);
    this.#helloSent = true;
    const first = chunk.subarray(0, MAX_RECORD);
    const hello = clientHello(first, this.#host);
    return chunk.length > MAX_RECORD ? Buffer.concat([hello, appDataRecords(chunk.subarray(MAX_RECORD))]) : hello;
  }

  decode(data: Buffer, sink: FrameSink): void {
    let off = 0;
    while (off < data.length) {
      if (this.#remaining < 0) {
        const n = Math.min(5 - this.#headLen, data.length - off);
        data.copy(this.#head, this.#headLen, off, off + n);
        this.#headLen += n;
        off += n;
        if (this.#headLen < 5) return;
        this.#headLen = 0;
        this.#record();
        continue;
      }
      const take = Math.min(this.#remaining, data.length - off);
      if (this.#isData && take > 0) sink.push(data.subarray(off, off + take));
      off += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#remaining = -1;
    }
  }

  #record(): void {
    const h = this.#head;
    const type = h[0];
    if (h[1] !== 0x03 || h[2] > 0x03) throw new ProxyError('PROTOCOL', 'simple-obfs tls: bad record version from the server');
    if (type === 0x14) this.#seenCcs = true;
    else if (type !== 0x16 && type !== 0x17) throw new ProxyError('PROTOCOL', `simple-obfs tls: unexpected record type ${type}`);
    this.#isData = type !== 0x14 && this.#seenCcs;
    if (type === 0x17 && !this.#seenCcs) throw new ProxyError('PROTOCOL', 'simple-obfs tls: data before the handshake ended');
    this.#remaining = h.readUInt16BE(3);
    if (this.#remaining === 0) this.#remaining = -1;
  }
}
