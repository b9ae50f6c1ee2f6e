import { Decompress } from 'fzstd';
import { HashedDomainSet } from './domain-set.js';
import { RangeIpSet } from './ip-set.js';
import type { RuleBehavior } from './rule-set-data.js';

/**
 * mihomo's binary rule-set format (MRS v1), learnt from its rules/provider/mrs_* and
 * component/trie/domain_set_bin.go, component/cidr/ipcidr_set_bin.go. A zstd stream of:
 *   "MRS" 0x01 · behaviour byte (0 domain, 1 ipcidr; classical has no mrs form) ·
 *   int64 count · int64 extra length · extra bytes · the set
 * domain set (version 1): a succinct (LOUDS) trie of the reversed keys: int64 n + n uint64
 *   `leaves`, int64 n + n uint64 `labelBitmap`, int64 n + n label bytes. Bit i of a bitmap is
 *   bit (i % 64) of word i / 64, words big-endian.
 * ipcidr set (version 1): int64 n, then n ranges of two 16-byte addresses (IPv4 as ::ffff:a.b.c.d).
 * All integers big-endian.
 */
export const MRS_MAGIC = Buffer.from([0x4d, 0x52, 0x53, 0x01]);

const BEHAVIOR_BYTE: Readonly<Record<string, number>> = { domain: 0, ipcidr: 1, classical: 2 };

/** A decompressed mrs payload bigger than this is refused (a zstd bomb). */
export const MAX_MRS_DECOMPRESSED = 512 * 1024 * 1024;

/** Decompresses a zstd stream, refusing output past `limit` bytes. */
export function zstdDecompress(data: Uint8Array, limit = MAX_MRS_DECOMPRESSED): Buffer {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const d = new Decompress((chunk) => {
    size += chunk.length;
    if (size > limit) throw new Error(`decompressed size exceeds ${limit} bytes`);
    chunks.push(chunk);
  });
  try {
    d.push(data, true);
  } catch (err) {
    throw new Error(`zstd: ${(err as Error)?.message ?? String(err)}`);
  }
  return Buffer.concat(chunks);
}

/**
 * A zstd frame holding `data` uncompressed (raw blocks of at most 128 KiB, a 128 KiB window):
 * valid zstd that every decoder reads, without a compressor in the dependencies.
 */
export function zstdStore(data: Uint8Array): Buffer {
  const MAX_BLOCK = 128 * 1024;
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  let at = 0;
  do {
    const n = Math.min(MAX_BLOCK, data.length - at);
    const last = at + n >= data.length ? 1 : 0;
    const h = (n << 3) | last; // block type 0 = raw
    parts.push(Buffer.from([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff]), Buffer.from(data.subarray(at, at + n)));
    at += n;
  } while (at < data.length);
  return Buffer.concat(parts);
}

/** A bounds-checked big-endian reader: a short or lying input is a clear error. */
class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number, what: string): void {
    if (n < 0 || this.at + n > this.buf.length) throw new Error(`mrs: truncated ${what}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.at++];
  }
  /** an int64 length, checked against what is left (`unit` bytes per element) */
  length(what: string, unit: number): number {
    this.need(8, what);
    const hi = this.buf.readInt32BE(this.at);
    const lo = this.buf.readUInt32BE(this.at + 4);
    this.at += 8;
    const n = hi * 2 ** 32 + lo;
    if (n < 0 || !Number.isSafeInteger(n)) throw new Error(`mrs: invalid ${what} length`);
    if (n * unit > this.buf.length - this.at) throw new Error(`mrs: ${what} length ${n} exceeds the data`);
    return n;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  /** n uint64 words as 2n uint32, little-word-first (word k: [2k] low, [2k+1] high) */
  bitmap(n: number, what: string): Uint32Array {
    this.need(n * 8, what);
    const out = new Uint32Array(n * 2);
    for (let k = 0; k < n; k++) {
      out[2 * k + 1] = this.buf.readUInt32BE(this.at);
      out[2 * k] = this.buf.readUInt32BE(this.at + 4);
      this.at += 8;
    }
    return out;
  }
}

const bit = (bm: Uint32Array, i: number): number => (i >>> 5 < bm.length ? (bm[i >>> 5] >>> (i & 31)) & 1 : 0);

/** What an mrs file holds: its behaviour, mihomo's count, and the set. */
export interface MrsContent {
  readonly behavior: 'domain' | 'ipcidr';
  readonly count: number;
  readonly domains?: HashedDomainSet;
  readonly ips?: RangeIpSet;
}

/**
 * Reads an mrs file (zstd included) for a provider of `behavior`. Throws a clear error on a
 * wrong magic or behaviour, a truncated or inconsistent body.
 */
export function readMrs(file: Uint8Array, behavior: RuleBehavior): MrsContent {
  const r = new Reader(zstdDecompress(file));
  const magic = r.bytes(4, 'header');
  if (!magic.equals(MRS_MAGIC)) throw new Error('invalid MrsMagic bytes');
  const b = r.u8('behavior');
  if (b !== BEHAVIOR_BYTE[behavior]) throw new Error('invalid behavior');
  r.need(8, 'count');
  const count = Number(r.buf.readBigInt64BE(r.at));
  r.at += 8;
  r.bytes(r.length('extra', 1), 'extra');
  if (behavior === 'domain') return { behavior, count, domains: readDomainSet(r) };
  if (behavior === 'ipcidr') return { behavior, count, ips: readIpSet(r) };
  throw new Error('invalid behavior');
}

function readDomainSet(r: Reader): HashedDomainSet {
  if (r.u8('domain set version') !== 1) throw new Error('version is invalid');
  const nLeaves = r.length('leaves', 8);
  if (nLeaves < 1) throw new Error('length is invalid');
  const leaves = r.bitmap(nLeaves, 'leaves');
  const nBitmap = r.length('labelBitmap', 8);
  if (nBitmap < 1) throw new Error('length is invalid');
  const labelBitmap = r.bitmap(nBitmap, 'labelBitmap');
  const nLabels = r.length('labels', 1);
  if (nLabels < 1) throw new Error('length is invalid');
  const labels = r.bytes(nLabels, 'labels');
  // LOUDS: nodes in breadth-first order; each node's children are a 0 bit each, then a 1 bit.
  // The k-th 0 bit is the edge to node k + 1, labelled labels[k].
  const nodes = nLabels + 1;
  const firstChild = new Int32Array(nodes + 1);
  let node = 0;
  let child = 1;
  const totalBits = nBitmap * 64;
  firstChild[0] = 1;
  for (let i = 0; i < totalBits && node < nodes; i++) {
    if (bit(labelBitmap, i) === 0) {
      if (child > nLabels) throw new Error('mrs: labelBitmap does not match labels');
      child++;
    } else {
      node++;
      firstChild[node] = child;
    }
  }
  for (let n = node + 1; n <= nodes; n++) firstChild[n] = child;
  if (child !== nodes) throw new Error('mrs: labelBitmap does not match labels');
  // depth-first walk, rebuilding each key (reversed) in one buffer
  const set = new HashedDomainSet();
  const key: number[] = [];
  const stack: number[] = [0, 0]; // pairs: node, depth
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const n = stack.pop()!;
    key.length = depth;
    if (n > 0) key.push(labels[n - 1]);
    if (key.length > 1024) throw new Error('mrs: key too long');
    if (bit(leaves, n) === 1) {
      const name = String.fromCharCode(...key).split('').reverse().join('');
      set.insertMrsKey(name);
    }
    for (let c = firstChild[n + 1] - 1; c >= firstChild[n]; c--) stack.push(c, key.length);
  }
  return set;
}

function readIpSet(r: Reader): RangeIpSet {
  if (r.u8('ipcidr set version') !== 1) throw new Error('version is invalid');
  const n = r.length('ranges', 32);
  if (n < 1) throw new Error('length is invalid');
  const set = new RangeIpSet();
  for (let i = 0; i < n; i++) {
    const from = addr16(r.bytes(16, 'range'));
    const to = addr16(r.bytes(16, 'range'));
    if (from.length !== to.length) throw new Error('mrs: range mixes IPv4 and IPv6');
    set.insertRange(from, to);
  }
  return set.finish();
}

/** 16 address bytes as words; IPv4-mapped unmapped to one word. */
function addr16(b: Buffer): Uint32Array {
  const mapped = b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt32BE(8) === 0xffff;
  if (mapped) return Uint32Array.of(b.readUInt32BE(12));
  return Uint32Array.of(b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12));
}

function int64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

function writeBitmap(bits: Uint32Array, nWords64: number): Buffer {
  const out = Buffer.alloc(8 + nWords64 * 8);
  out.writeBigInt64BE(BigInt(nWords64));
  for (let k = 0; k < nWords64; k++) {
    out.writeUInt32BE(bits[2 * k + 1] ?? 0, 8 + k * 8);
    out.writeUInt32BE(bits[2 * k] ?? 0, 12 + k * 8);
  }
  return out;
}

/** mihomo's succinct domain set of `keys` (DomainSet key form: `x`, `+.x`, `*.x`), as its WriteBin. */
function domainSetBin(keyList: Iterable<string>): Buffer {
  const keys = [...new Set(keyList)].map((k) => Buffer.from(k, 'latin1').reverse());
  keys.sort(Buffer.compare);
  if (keys.length === 0) throw new Error('empty rule');
  const leaves: number[] = [];
  const bitmap: number[] = [];
  const labels: number[] = [];
  let lIdx = 0;
  const setBit = (bm: number[], i: number): void => {
    while (i >>> 5 >= bm.length) bm.push(0);
    bm[i >>> 5] = (bm[i >>> 5] | (1 << (i & 31))) >>> 0;
  };
  const queue: [number, number, number][] = [[0, keys.length, 0]];
  for (let q = 0; q < queue.length; q++) {
    let [s, e, col] = queue[q];
    if (col === keys[s].length) {
      s++;
      setBit(leaves, q);
    }
    for (let j = s; j < e; ) {
      const from = j;
      const c = keys[from][col];
      while (j < e && keys[j][col] === c) j++;
      queue.push([from, j, col + 1]);
      labels.push(c);
      lIdx++; // a 0 bit
    }
    setBit(bitmap, lIdx);
    lIdx++;
  }
  const words64 = (bm: number[]) => Math.ceil(bm.length / 2);
  return Buffer.concat([
    Buffer.from([1]),
    writeBitmap(Uint32Array.from(leaves), words64(leaves)),
    writeBitmap(Uint32Array.from(bitmap), words64(bitmap)),
    int64(labels.length),
    Buffer.from(labels),
  ]);
}

function ipSetBin(set: RangeIpSet): Buffer {
  const parts: Buffer[] = [Buffer.from([1])];
  const ranges = [...set.ranges()];
  if (ranges.length === 0) throw new Error('empty rule');
  parts.push(int64(ranges.length));
  const as16 = (w: Uint32Array): Buffer => {
    const b = Buffer.alloc(16);
    if (w.length === 1) {
      b.writeUInt32BE(0xffff, 8);
      b.writeUInt32BE(w[0], 12);
    } else for (let i = 0; i < 4; i++) b.writeUInt32BE(w[i], i * 4);
    return b;
  };
  for (const [from, to] of ranges) parts.push(as16(from), as16(to));
  return Buffer.concat(parts);
}

/** Writes an mrs file of a domain or ipcidr set (zstd frame with stored blocks). */
export function writeMrs(content: MrsContent): Buffer {
  const body = content.behavior === 'domain' ? domainSetBin(content.domains!.keys()) : ipSetBin(content.ips!);
  const head = Buffer.concat([MRS_MAGIC, Buffer.from([BEHAVIOR_BYTE[content.behavior]]), int64(content.count), int64(0)]);
  return zstdStore(Buffer.concat([head, body]));
}
