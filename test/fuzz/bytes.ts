import fc from 'fast-check';
import type { Address } from '../../src/core/address.js';

/**
 * Structure-aware byte arbitraries: valid messages built by our encoders, then mutated the
 * ways that reach parser edges (truncation, bit flips, length fields set to their limits,
 * inserted and deleted bytes, trailing garbage), plus plain random bytes.
 */

/** One edit of a byte string. Offsets are taken modulo the length. */
type Mutation =
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set8'; readonly at: number; readonly v: number }
  | { readonly op: 'set16'; readonly at: number; readonly v: number }
  | { readonly op: 'set32'; readonly at: number; readonly v: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly n: number }
  | { readonly op: 'append'; readonly bytes: Uint8Array };

const at = fc.nat();
const EDGE8 = [0, 1, 2, 3, 4, 5, 0x7f, 0x80, 0xfe, 0xff];
const EDGE16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xfffe, 0xffff];
const EDGE32 = [0, 1, 0xffff, 0x10000, 0x3fffff, 0x400000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at }),
  fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set8' as const), at, v: fc.oneof(fc.constantFrom(...EDGE8), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('set16' as const), at, v: fc.constantFrom(...EDGE16) }),
  fc.record({ op: fc.constant('set32' as const), at, v: fc.constantFrom(...EDGE32) }),
  fc.record({ op: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at, n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
);

function apply(buf: Buffer, m: Mutation): Buffer {
  const n = buf.length;
  switch (m.op) {
    case 'append':
      return Buffer.concat([buf, m.bytes]);
    case 'insert': {
      const i = n === 0 ? 0 : m.at % (n + 1);
      return Buffer.concat([buf.subarray(0, i), m.bytes, buf.subarray(i)]);
    }
    default:
      break;
  }
  if (n === 0) return buf;
  const i = m.at % n;
  const out = Buffer.from(buf);
  switch (m.op) {
    case 'truncate':
      return out.subarray(0, i);
    case 'flip':
      out[i] ^= 1 << m.bit;
      return out;
    case 'set8':
      out[i] = m.v;
      return out;
    case 'set16':
      if (i + 2 <= n) out.writeUInt16BE(m.v, i);
      return out;
    case 'set32':
      if (i + 4 <= n) out.writeUInt32BE(m.v >>> 0, i);
      return out;
    case 'delete':
      return Buffer.concat([out.subarray(0, i), out.subarray(i + m.n)]);
  }
}

/** `valid` with 0..4 mutations applied. */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([b, ms]) => ms.reduce(apply, b));
}

/** Random bytes, short and long. */
export const randomBytesArb: fc.Arbitrary<Buffer> = fc
  .oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 2048 }))
  .map((u) => Buffer.from(u));

/** The usual mix: mostly mutated valid messages, some valid ones, some random bytes. */
export function wire(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(valid) },
    { weight: 2, arbitrary: valid },
    { weight: 1, arbitrary: randomBytesArb },
  );
}

/** A byte string and where to cut it into reads (split points, sorted, deduplicated). */
export interface Chunked {
  readonly bytes: Buffer;
  readonly cuts: readonly number[];
}

export function chunked(bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<Chunked> {
  return fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 8 })).map(([b, cs]) => ({
    bytes: b,
    cuts: [...new Set(cs.map((c) => (b.length === 0 ? 0 : c % b.length)))].sort((x, y) => x - y),
  }));
}

/** The reads of a Chunked input, as fresh copies (a decoder may modify its input in place). */
export function reads(c: Chunked): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const cut of [...c.cuts, c.bytes.length]) {
    if (cut > prev) out.push(Buffer.from(c.bytes.subarray(prev, cut)));
    prev = cut;
  }
  return out;
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

/** Destinations as the protocols carry them: names (up to the 255-byte limit), IPv4, IPv6. */
export const addressArb: fc.Arbitrary<Address> = fc.record({
  host: fc.oneof(
    fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')),
    fc.constant('a'.repeat(255)),
    fc.ipV4(),
    fc.ipV6().filter((h) => !h.includes('.')),
    fc.constantFrom('::ffff:1.2.3.4', '127.0.0.1', '::1', 'localhost'),
  ),
  port: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 1, 80, 443, 65535)),
});

/** Small payloads. */
export const payloadArb: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u));
