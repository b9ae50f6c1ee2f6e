// CPU per AEAD seal and open through the protocols' key objects (Shadowsocks AeadKey, VMess
// ChunkAead), one message per call, per size: the cost the runtime seam (src/runtime/aead.ts)
// must not raise on Node. Prints one line per cipher and size: median microseconds over batches.
//   node --import tsx bench/aead-cost.ts [--best]       (or: bun bench/aead-cost.ts [--best])
import { randomBytes } from 'node:crypto';
import { AeadKey } from '../src/protocol/shadowsocks/codec/aead.js';
import { ChunkAead } from '../src/protocol/vmess/codec/chunk-aead.js';

const SIZES = [16, 2048, 16384];
const BATCHES = 15;
const PER_BATCH = 2000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/**
 * CPU microseconds per call of `fn` (bounded: BATCHES x PER_BATCH calls): the median batch, or
 * with --best the cheapest batch (steadier on a shared machine, where neighbours inflate some).
 */
const BEST = process.argv.includes('--best');
function cost(fn: () => void): number {
  for (let i = 0; i < PER_BATCH; i++) fn(); // warm up
  const per: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < PER_BATCH; i++) fn();
    const d = process.cpuUsage(t0);
    per.push((d.user + d.system) / PER_BATCH);
  }
  return BEST ? Math.min(...per) : median(per);
}

const runtime = typeof process.versions.bun === 'string' ? `bun ${process.versions.bun}` : `node ${process.versions.node}`;
console.log(`# ${runtime}: ${BEST ? 'cheapest-batch' : 'median'} CPU us per call (${BATCHES} batches of ${PER_BATCH})`);
console.log('cipher                     size   ss-seal  ss-open  vmess-seal  vmess-open');
for (const alg of ['aes-128-gcm', 'chacha20-poly1305'] as const) {
  for (const n of SIZES) {
    const plain = randomBytes(n);
    const key = new AeadKey(alg, randomBytes(32).subarray(0, alg === 'aes-128-gcm' ? 16 : 32));
    const nonce = Buffer.alloc(12);
    const sealed = key.seal(nonce, plain);
    const ssSeal = cost(() => key.seal(nonce, plain));
    const ssOpen = cost(() => key.open(nonce, sealed));
    const k16 = randomBytes(16);
    const iv = randomBytes(16);
    const tx = new ChunkAead(alg, k16, iv);
    const out = Buffer.allocUnsafe(n + 16);
    const vSeal = cost(() => tx.sealInto(plain, out, 0));
    // VMess counts nonces per chunk: open what a fresh sender sealed, with a fresh receiver each batch
    const chunks: Buffer[] = [];
    const sender = new ChunkAead(alg, k16, iv);
    for (let i = 0; i < 65536; i++) {
      const c = Buffer.allocUnsafe(n + 16);
      sender.sealInto(plain, c, 0);
      if (i < PER_BATCH * (BATCHES + 1)) chunks.push(c);
      else break;
    }
    let rx = new ChunkAead(alg, k16, iv);
    let at = 0;
    const vOpen = cost(() => {
      if (at === chunks.length) {
        rx = new ChunkAead(alg, k16, iv);
        at = 0;
      }
      if (rx.open(chunks[at++]) === undefined) throw new Error('vmess chunk did not open');
    });
    console.log(`${alg.padEnd(24)} ${String(n).padStart(6)}   ${ssSeal.toFixed(2).padStart(6)}   ${ssOpen.toFixed(2).padStart(6)}   ${vSeal.toFixed(2).padStart(9)}   ${vOpen.toFixed(2).padStart(9)}`);
  }
}
