/**
 * The DNS wire format, on the kept `dns-packet` library: every encode and decode of the DNS
 * code goes through here, so a malformed packet is one clear error (never a throw from deep
 * inside a parser) and the few header bits the library leaves raw (rcode, opcode) have names.
 */
import * as packet from 'dns-packet';
import type { Answer, Packet, Question, RecordType } from 'dns-packet';

export type { Answer, Packet, Question, RecordType };

/** A decoded message with the header fields dns-packet reads but does not type. */
export interface Message extends Packet {
  readonly id: number;
  readonly flags: number;
  readonly questions: Question[];
  readonly answers: Answer[];
  readonly authorities: Answer[];
  readonly additionals: Answer[];
}

/** RCODE numbers (RFC 1035 / 6895) by the names mihomo's `rcode://` scheme uses. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** A header flag bit. */
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const;

/** The largest DNS message (TCP and DoH bodies carry at most this many bytes). */
export const MAX_MESSAGE = 65_535;

/** A packet that does not decode as DNS. */
export class WireError extends Error {}

/** The rcode of a decoded message (the low 4 bits of the flags). */
export function rcodeOf(m: Packet): number {
  return (m.flags ?? 0) & 0xf;
}

/** The opcode of a decoded message. */
export function opcodeOf(m: Packet): number {
  return ((m.flags ?? 0) >> 11) & 0xf;
}

/** The name of an rcode as dig prints it. */
export function rcodeName(code: number): string {
  return (Object.entries(RCODE).find(([, v]) => v === code)?.[0]) ?? `RCODE${code}`;
}

/** Decodes one message; throws WireError (never anything else) for anything that is not one. */
export function decode(buf: Buffer): Message {
  if (buf.length < 12) throw new WireError(`dns: message of ${buf.length} bytes is shorter than its header`);
  if (buf.length > MAX_MESSAGE) throw new WireError(`dns: message of ${buf.length} bytes is too long`);
  // a question takes at least 5 bytes and a record 11: counts the bytes cannot hold are a lie
  // (the codec would otherwise make up records past the end: thousands of them, megabytes re-encoded)
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  if (12 + buf.readUInt16BE(4) * 5 + records * 11 > buf.length) throw new WireError('dns: bad message: header counts exceed its length');
  let m: packet.DecodedPacket;
  try {
    m = packet.decode(buf);
  } catch (err) {
    throw new WireError(`dns: bad message: ${(err as Error).message}`);
  }
  const bad = firstBadName(m);
  if (bad !== undefined) throw new WireError(`dns: bad message: name ${JSON.stringify(bad.slice(0, 80))} would not encode back as it came`);
  return {
    ...m,
    id: m.id ?? 0,
    flags: (((m.flag_qr ? 1 : 0) << 15) | (m.flags ?? 0)) & 0xffff,
    questions: m.questions ?? [],
    answers: m.answers ?? [],
    authorities: m.authorities ?? [],
    additionals: m.additionals ?? [],
  };
}

/**
 * Whether a name as the codec decoded it encodes back to a valid name: labels are read as
 * UTF-8 text, so bytes that are not UTF-8 come back as U+FFFD (3 bytes each) and a 63-byte label
 * can grow past the limit; an answer carrying such a name would reach the client malformed.
 */
function nameEncodes(name: unknown): boolean {
  if (typeof name !== 'string') return true;
  if (name.includes('\uFFFD')) return false;
  let total = 0;
  for (const label of name.split('.')) {
    const n = Buffer.byteLength(label, 'utf8');
    if (n > 63) return false;
    total += n + 1;
  }
  return total <= 255;
}

/** The first name of a decoded message (questions, owners, the names records carry) that would not encode back. */
function firstBadName(m: packet.DecodedPacket): string | undefined {
  for (const q of m.questions ?? []) if (!nameEncodes(q.name)) return q.name;
  for (const a of [...(m.answers ?? []), ...(m.authorities ?? []), ...(m.additionals ?? [])]) {
    const r = a as { name?: unknown; type?: string; data?: unknown };
    if (!nameEncodes(r.name)) return String(r.name);
    const d = r.data as Record<string, unknown> | string | undefined;
    const names = typeof d === 'string' ? (['CNAME', 'NS', 'PTR', 'DNAME'].includes(r.type ?? '') ? [d] : []) : d && typeof d === 'object' ? [d.exchange, d.target, d.mname, d.rname] : [];
    for (const n of names) if (!nameEncodes(n)) return String(n);
  }
  return undefined;
}

/** Encodes a message; throws WireError when a record cannot be written. */
export function encode(m: Packet): Buffer {
  try {
    const out = packet.encode({ ...m, flags: (m.flags ?? 0) & 0x7fff, type: (m.flags ?? 0) & FLAG.QR ? 'response' : 'query' });
    // names reached through compression pointers are written out whole (no compression on
    // encode): a small reply can re-encode past what a DNS message (and a TCP frame) can carry
    if (out.length > MAX_MESSAGE) throw new WireError(`dns: message of ${out.length} bytes is too long`);
    return out;
  } catch (err) {
    if (err instanceof WireError) throw err;
    throw new WireError(`dns: cannot encode: ${(err as Error).message}`);
  }
}

/** The 16-bit id of a raw message (0 when too short). */
export function rawId(buf: Buffer): number {
  return buf.length >= 2 ? buf.readUInt16BE(0) : 0;
}

/** A copy of a raw message with another id. */
export function withId(buf: Buffer, id: number): Buffer {
  const out = Buffer.from(buf);
  if (out.length >= 2) out.writeUInt16BE(id & 0xffff, 0);
  return out;
}

/** EDNS Client Subnet (`ecs`): an address and its prefix length. */
export interface ClientSubnet {
  readonly ip: string;
  readonly prefix: number;
}

/** A query for `name` / `type` with recursion desired and, when given, an ECS option. */
export function query(name: string, type: RecordType, id = 0, ecs?: ClientSubnet): Message {
  const additionals: Answer[] = [];
  if (ecs) additionals.push(optRecord(ecs));
  return { id, flags: FLAG.RD, questions: [{ name, type, class: 'IN' }], answers: [], authorities: [], additionals };
}

function optRecord(ecs: ClientSubnet): Answer {
  const family = ecs.ip.includes(':') ? 2 : 1;
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: 1232,
    flags: 0,
    options: [{ code: 'CLIENT_SUBNET', family, sourcePrefixLength: ecs.prefix, scopePrefixLength: 0, ip: ecs.ip }],
  } as unknown as Answer;
}

/** `m` with an ECS option set (any OPT record it carried replaced), for upstreams with `ecs`. */
export function withClientSubnet(m: Message, ecs: ClientSubnet): Message {
  return { ...m, additionals: [...m.additionals.filter((a) => a.type !== 'OPT'), optRecord(ecs)] };
}

/** A reply to `q` with `rcode` and the given records (recursion available, as a resolver). */
export function reply(q: Message, rcode: number, answers: Answer[] = [], authorities: Answer[] = []): Message {
  return {
    id: q.id,
    flags: FLAG.QR | FLAG.RA | (q.flags & FLAG.RD) | (q.flags & FLAG.CD) | (rcode & 0xf),
    questions: q.questions,
    answers,
    authorities,
    additionals: [],
  };
}

/**
 * A FORMERR reply built from nothing but the 12-byte header of an undecodable query (its id
 * and RD bit), or undefined when it is not even that (or already a response: never answer one).
 */
export function formErrFromRaw(buf: Buffer): Buffer | undefined {
  if (buf.length < 12) return undefined;
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG.QR) return undefined;
  const out = Buffer.alloc(12);
  out.writeUInt16BE(buf.readUInt16BE(0), 0);
  out.writeUInt16BE(FLAG.QR | FLAG.RA | (flags & FLAG.RD) | (flags & 0x7800) | RCODE.FORMERR, 2);
  return out;
}

/** The addresses of the A and AAAA records of an answer (CNAME chains followed by position). */
export function answerIps(m: Packet): string[] {
  const out: string[] = [];
  for (const a of m.answers ?? []) if ((a.type === 'A' || a.type === 'AAAA') && typeof a.data === 'string') out.push(a.data);
  return out;
}

/** The smallest TTL of the answer section; undefined when it has no records. */
export function minAnswerTtl(m: Packet): number | undefined {
  let min: number | undefined;
  for (const a of m.answers ?? []) {
    if (a.type === 'OPT') continue;
    const ttl = (a as { ttl?: number }).ttl ?? 0;
    min = min === undefined ? ttl : Math.min(min, ttl);
  }
  return min;
}

/** How long a negative answer may be cached (RFC 2308: min of the SOA's TTL and MINIMUM). */
export function negativeTtl(m: Packet): number | undefined {
  for (const a of m.authorities ?? []) {
    if (a.type === 'SOA') {
      const ttl = (a as { ttl?: number }).ttl ?? 0;
      return Math.min(ttl, a.data.minimum ?? ttl);
    }
  }
  return undefined;
}

/** Every record of `m` with its TTL set to `ttl` (OPT records untouched). */
export function withTtl(m: Message, ttl: number): Message {
  const set = (list: Answer[]) => list.map((a) => (a.type === 'OPT' ? a : ({ ...a, ttl } as Answer)));
  return { ...m, answers: set(m.answers), authorities: set(m.authorities), additionals: m.additionals.filter((a) => a.type !== 'OPT') };
}

/** Every record of `m` aged by `seconds` (not below 1), as a cache hands out an old answer. */
export function aged(m: Message, seconds: number): Message {
  const age = (list: Answer[]) =>
    list.map((a) => (a.type === 'OPT' ? a : ({ ...a, ttl: Math.max(1, ((a as { ttl?: number }).ttl ?? 0) - seconds) } as Answer)));
  return { ...m, answers: age(m.answers), authorities: age(m.authorities), additionals: m.additionals.filter((a) => a.type !== 'OPT') };
}

/** The question's name lower-cased without the root dot ('' for the root). */
export function questionName(q: Question): string {
  const n = q.name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** `example.com. IN A`, as mihomo's logs name a question. */
export function questionText(q: Question): string {
  return `${q.name.endsWith('.') ? q.name : `${q.name}.`} ${q.class ?? 'IN'} ${q.type}`;
}

/** Record type numbers (RFC 1035 and later) of the types a query may name. */
export const TYPE_NUMBERS: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DS: 43, RRSIG: 46, NSEC: 47, DNSKEY: 48, SVCB: 64, HTTPS: 65, CAA: 257, ANY: 255,
};

/** A record's data as text, as dig's short form prints it. */
export function recordText(a: Answer): string {
  const d = (a as { data?: unknown }).data;
  if (typeof d === 'string') return d;
  if (Buffer.isBuffer(d)) return d.toString('hex');
  if (Array.isArray(d)) return d.map((x) => (Buffer.isBuffer(x) ? x.toString() : String(x))).map((t) => JSON.stringify(t)).join(' ');
  if (d && typeof d === 'object') {
    if (a.type === 'MX') {
      const mx = d as { preference?: number; exchange?: string };
      return `${mx.preference ?? 0} ${mx.exchange ?? ''}`;
    }
    if (a.type === 'SOA') {
      const s = d as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    if (a.type === 'SRV') {
      const s = d as { priority: number; weight: number; port: number; target: string };
      return `${s.priority} ${s.weight} ${s.port} ${s.target}`;
    }
    return JSON.stringify(d, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
  }
  return '';
}
