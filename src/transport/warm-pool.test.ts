import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import tls, { type TLSSocket } from 'node:tls';
import { testCerts } from '../../test/support/certs.js';
import { freePort } from '../../test/support/ports.js';
import { createLogger } from '../common/log.js';
import { createSystemResolver } from '../dns/system-resolver.js';
import type { Dialer } from '../core/outbound.js';
import { createSystemDialer } from './system-dialer.js';
import type { WarmPoolTuning } from './warm-pool.js';
import { WarmPoolRegistry } from './warm-pool-registry.js';

const FAST: Partial<WarmPoolTuning> = { tickMs: 20, backoffBaseMs: 50, backoffMaxMs: 400, handshakeTimeoutMs: 3000 };

/** A TLS echo server on 127.0.0.1 that remembers its accepted sockets. */
async function tlsEcho() {
  const c = testCerts();
  const accepted: tls.TLSSocket[] = [];
  const server = tls.createServer({ key: c.keyPem, cert: c.certPem }, (s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  server.on('tlsClientError', () => {});
  const raw = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    raw.add(s);
    s.on('close', () => raw.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    accepted,
    async close() {
      const closed = new Promise((r) => server.close(r));
      for (const s of accepted) s.destroy();
      for (const s of raw) s.destroy();
      await closed;
    },
  };
}

const resolver = createSystemResolver({ ipv6: true });
test.after(() => resolver.close());

/** A system dialer that counts dials and remembers when each started. */
function countingDialer(): Dialer & { times: number[]; inflight: number; maxInflight: number } {
  const sys = createSystemDialer({ resolver });
  const d = {
    times: [] as number[],
    inflight: 0,
    maxInflight: 0,
    async dialTcp(to: Parameters<Dialer['dialTcp']>[0], signal: AbortSignal): Promise<Duplex> {
      d.times.push(Date.now());
      d.maxInflight = Math.max(d.maxInflight, ++d.inflight);
      try {
        return await sys.dialTcp(to, signal);
      } finally {
        d.inflight--;
      }
    },
    dialUdp: sys.dialUdp.bind(sys),
  };
  return d;
}

function setup(port: number, opts: { min?: number; max?: number; maxIdleMs?: number; perServerCap?: number } = {}) {
  const dialer = countingDialer();
  const reg = new WarmPoolRegistry({
    log: createLogger('silent'),
    dialer,
    defaults: { enable: true, min: opts.min ?? 4, max: opts.max ?? 8, maxIdleMs: opts.maxIdleMs ?? 5000 },
    perServerCap: opts.perServerCap,
    tuning: FAST,
  });
  const pool = reg.pool(dialer, { server: '127.0.0.1', port, tls: { serverName: 'localhost', ca: testCerts().caPem } });
  assert.ok(pool);
  return { dialer, reg, pool };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function echoes(s: TLSSocket): Promise<void> {
  s.write('ping');
  const [chunk] = (await once(s, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'ping');
}

test('fills to min, hands out each live socket once, then misses', async () => {
  const srv = await tlsEcho();
  const { reg, pool } = setup(srv.port, { min: 4, max: 4 });
  assert.equal(pool.take(), undefined, 'cold pool: a miss');
  await until(() => pool.metrics().size === 4);
  const got = new Set<TLSSocket>();
  for (let k = 0; k < 4; k++) {
    const s = pool.take();
    assert.ok(s);
    assert.ok(!got.has(s), 'never the same socket twice');
    got.add(s);
  }
  for (const s of got) await echoes(s);
  // refills afterwards; over many takes no socket repeats
  for (let k = 0; k < 20; k++) {
    await until(() => pool.metrics().size > 0);
    const s = pool.take();
    assert.ok(s && !got.has(s));
    got.add(s);
  }
  const m = pool.metrics();
  assert.equal(m.hits, 24);
  assert.equal(m.misses, 1);
  assert.ok(m.handshakeMs > 0);
  for (const s of got) s.destroy();
  reg.close();
  await srv.close();
});

test('sockets closed by the server while parked are never handed out', async () => {
  const srv = await tlsEcho();
  const { reg, pool } = setup(srv.port, { min: 3, max: 3 });
  pool.take();
  await until(() => pool.metrics().size === 3);
  await srv.close(); // destroys every accepted socket and stops accepting
  await until(() => pool.metrics().size === 0, 10_000);
  assert.equal(pool.take(), undefined);
  assert.ok(pool.metrics().dropped >= 3);
  reg.close();
});

test('server half-close (FIN only) also drops the parked socket', async () => {
  const srv = await tlsEcho();
  // max-idle far beyond the waits, so no parked socket expires (wasted) instead of being dropped
  const { reg, pool } = setup(srv.port, { min: 2, max: 2, maxIdleMs: 120_000 });
  try {
    pool.take();
    await until(() => pool.metrics().size === 2);
    // a client is secure before the server has read its Finished (TLS 1.3): wait until the
    // server holds both parked connections, or the FIN below would miss one
    await until(() => srv.accepted.length >= 2);
    for (const s of srv.accepted) s.end();
    // generous bound: under a full suite on a busy machine the FINs can take a while to land
    await until(() => pool.metrics().dropped >= 2, 10_000);
    // whatever is parked now was accepted after the FINs and is live
    const s = pool.take();
    if (s) await echoes(s);
    s?.destroy();
  } finally {
    // also on failure: a live server would hold the file open until the runner's 120 s bound
    reg.close();
    await srv.close();
  }
});

test('parked sockets expire after max-idle (counted as wasted) and are replaced', async () => {
  const srv = await tlsEcho();
  const { reg, pool } = setup(srv.port, { min: 2, max: 2, maxIdleMs: 200 });
  pool.take();
  await until(() => pool.metrics().size === 2);
  await until(() => pool.metrics().wasted >= 2, 2000);
  await until(() => pool.metrics().size === 2);
  const s = pool.take();
  assert.ok(s);
  await echoes(s);
  s.destroy();
  reg.close();
  await srv.close();
});

test('a dead port: attempts back off exponentially, one at a time, bounded', async () => {
  const port = await freePort();
  const { dialer, reg, pool } = setup(port, { min: 4, max: 4 });
  assert.equal(pool.take(), undefined);
  await new Promise((r) => setTimeout(r, 1500));
  const t = dialer.times;
  // 4 parallel first attempts (one failed round), then one probe after 50, 100, 200, 400, 400 … ms
  assert.ok(t.length >= 8 && t.length <= 11, `attempts ${t.length}`);
  const probes = t.slice(3);
  const gaps = probes.slice(1).map((v, k) => v - (probes[k] as number));
  gaps.forEach((g, k) => {
    const expect = Math.min(50 * 2 ** k, 400);
    assert.ok(g >= expect * 0.8 && g <= expect + 150, `gap ${k}: ${g} vs ${expect}`);
  });
  assert.ok(dialer.maxInflight <= 4);
  assert.ok(pool.metrics().failures >= 4);
  reg.close();
});

test('per-server cap bounds parked + pending across pools of one server', async () => {
  const srv = await tlsEcho();
  const { dialer, reg, pool } = setup(srv.port, { min: 8, max: 8, perServerCap: 3 });
  const other = reg.pool(dialer, { server: '127.0.0.1', port: srv.port, tls: { serverName: 'localhost', ca: testCerts().caPem, alpn: ['h2'] } });
  assert.ok(other && other !== pool);
  pool.take();
  other.take();
  await new Promise((r) => setTimeout(r, 400));
  const total = pool.metrics().size + pool.metrics().pending + other.metrics().size + other.metrics().pending;
  assert.equal(total, 3);
  reg.close();
  await srv.close();
});

test('disabled, or another dialer: no pool; close() empties and stops', async () => {
  const srv = await tlsEcho();
  const { dialer, reg, pool } = setup(srv.port, { min: 2 });
  const target = { server: '127.0.0.1', port: srv.port, tls: {} };
  assert.equal(reg.pool(countingDialer(), target), undefined);
  assert.equal(reg.pool(dialer, target, { enable: false }), undefined);
  assert.equal(reg.pool(dialer, target, { max: 0 }), undefined);
  pool.take();
  await until(() => pool.metrics().size === 2);
  reg.close();
  assert.equal(pool.metrics().size, 0);
  assert.equal(pool.take(), undefined);
  await srv.close();
});

test('parked sockets do not keep the process alive', async () => {
  const srv = await tlsEcho();
  // a child fills a pool and never closes it: it must still exit on its own
  const code = `
    import { createSystemResolver } from './src/dns/system-resolver.ts';
    import { createSystemDialer } from './src/transport/system-dialer.ts';
    import { WarmPoolRegistry } from './src/transport/warm-pool-registry.ts';
    import { createLogger } from './src/common/log.ts';
    const resolver = createSystemResolver({ ipv6: true });
    const dialer = createSystemDialer({ resolver });
    const reg = new WarmPoolRegistry({ log: createLogger('silent'), dialer, defaults: { min: 2, max: 2 } });
    const pool = reg.pool(dialer, { server: '127.0.0.1', port: ${srv.port}, tls: { skipCertVerify: true } });
    pool.take();
    const t = setInterval(() => { if (pool.metrics().size === 2) { clearInterval(t); resolver.close(); console.log('filled'); } }, 10);
  `;
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: process.cwd(), timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  assert.match(out, /filled/);
  await srv.close();
});
