import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Address } from '../../src/core/address.js';
import type { Metadata, Network } from '../../src/core/metadata.js';
import type { Outbound } from '../../src/core/outbound.js';
import { startDestinations, type Destinations } from './destinations.js';

/** What a protocol's test hands the shared suite: an outbound wired to a real server. */
export interface ConformanceSetup {
  /** the outbound under test */
  readonly outbound: Outbound;
  /** run the UDP case (the protocol and the server both relay UDP) */
  readonly udp: boolean;
  /** the same server, wrong password/user; omit for protocols without credentials */
  readonly wrongCredentials?: Outbound;
  /**
   * true for unauthenticated ciphers (Shadowsocks stream ciphers): the server reads the wrong
   * key's header as a random address and may relay to whatever answers there, so bytes may come
   * back, decrypted into noise; the case then asserts only that the echo never does
   */
  readonly wrongCredentialsMayRelay?: boolean;
  /** kills the server process mid-stream; the suite runs this case last */
  readonly killServer?: () => Promise<void>;
  /** false when the peer cannot pass a half-close from the destination side (say why) */
  readonly serverHalfClose?: boolean;
  /** false when the peer ends the whole session on a client FIN (trojan-gfw; v2ray over ws):
   * echo cases then read the known length before closing instead of ending first (say why) */
  readonly clientHalfClose?: boolean;
  /** closes what the outbound holds open on purpose between connections (a warm pool's parked
   * connections) before descriptors are counted; may assert that it was used */
  releaseHeld?(): Promise<void> | void;
  /** stops what setup started */
  teardown(): Promise<void>;
}

/** Options of one suite run. */
export interface ConformanceOptions {
  /** where the destinations listen and how the proxy is asked to reach them */
  readonly destinationHost?: string;
  /** bound for each case (slow peers, TLS) */
  readonly timeoutMs?: number;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Metadata for a dial to `to`, as the tunnel would build it. */
export function metaFor(to: Address, network: Network = 'tcp'): Metadata {
  return {
    id: randomUUID(),
    network,
    inbound: { type: 'SOCKS5', name: 'conformance', port: 0 },
    source: { host: '127.0.0.1', port: 40000 },
    destination: to,
  };
}

/** Everything a stream yields until it ends (rejects on error or close without end). */
function collect(s: Duplex, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const t = setTimeout(() => reject(new Error(`no end within ${timeoutMs} ms (${parts.length} chunks)`)), timeoutMs);
    s.on('data', (c: Buffer) => parts.push(c));
    s.once('end', () => {
      clearTimeout(t);
      resolve(Buffer.concat(parts));
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.once('close', () => {
      clearTimeout(t);
      if (!s.readableEnded) reject(new Error(`closed without end after ${Buffer.concat(parts).length} bytes`));
    });
  });
}

/** Writes chunks honouring backpressure, then ends. */
async function writeAll(s: Duplex, chunks: readonly Buffer[]): Promise<void> {
  for (const c of chunks) {
    if (s.destroyed) throw new Error('stream destroyed while writing');
    if (!s.write(c)) await new Promise<void>((r) => s.once('drain', r));
  }
  s.end();
}

/** Reads exactly `n` bytes (rejects if the stream ends or fails first, or after `ms`). */
function readExactly(s: Duplex, n: number, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const t = setTimeout(() => done(new Error(`only ${got} of ${n} bytes within ${ms} ms`)), ms);
    const onData = (c: Buffer): void => {
      parts.push(c);
      got += c.length;
      if (got >= n) done();
    };
    const onEnd = (): void => done(new Error(`stream ended after ${got} of ${n} bytes`));
    const done = (err?: Error): void => {
      clearTimeout(t);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', done);
      if (err) reject(err);
      else resolve(Buffer.concat(parts));
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', done);
  });
}

/**
 * Sends `chunks` through an echo and returns what came back: ending first and reading to the
 * end (a half-close), or, for peers without client half-close, reading the known length first.
 */
async function echoExchange(c: Duplex, chunks: readonly Buffer[], halfClose: boolean, ms: number): Promise<Buffer> {
  const total = chunks.reduce((n, b) => n + b.length, 0);
  if (halfClose) {
    const got = collect(c, ms);
    await writeAll(c, chunks);
    return got;
  }
  const got = readExactly(c, total, ms);
  for (const b of chunks) if (!c.write(b)) await new Promise<void>((r) => c.once('drain', r));
  const back = await got;
  c.destroy();
  return back;
}

/** The count once it has not changed for a moment (closes from earlier cases may lag). */
async function settled(count: () => number, ms: number): Promise<number> {
  let last = count();
  const deadline = Date.now() + ms;
  for (let stable = 0; stable < 5 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 40));
    const now = count();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** Resolves when `cond` holds, polling; rejects after `timeoutMs`. */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;

/**
 * The outbound conformance suite every protocol runs (registered as node:test cases):
 * TCP echo, 100 x 64 KiB both ways at once with hashes, concurrent streams, half-close both
 * ways, client abort mid-stream, UDP echo, wrong credentials, server killed mid-stream, and no
 * descriptor left behind.
 */
export function conformance(name: string, setup: () => Promise<ConformanceSetup>, opts: ConformanceOptions = {}): void {
  const host = opts.destinationHost ?? '127.0.0.1';
  const T = opts.timeoutMs ?? 20_000;
  describe(`conformance: ${name}`, () => {
    let s: ConformanceSetup;
    let d: Destinations;
    let fdsBefore = 0;
    const dial = (port: number, o?: Outbound): Promise<Duplex> =>
      (o ?? s.outbound).dialTcp(metaFor({ host, port }), { signal: AbortSignal.timeout(T) });

    before(async () => {
      d = await startDestinations(host);
      s = await setup();
      fdsBefore = fdCount(); // after setup: the peer's pipes and listeners are not the cases' doing
    });
    after(async () => {
      await s?.teardown();
      await d?.close();
    });

    const halfClose = (): boolean => s.clientHalfClose !== false;

    test('TCP echo', { timeout: T }, async () => {
      const c = await dial(d.echoPort);
      assert.equal((await echoExchange(c, [Buffer.from('ping')], halfClose(), T)).toString(), 'ping');
    });

    test('100 x 64 KiB both ways at once, hashes equal', { timeout: T * 2 }, async () => {
      const c = await dial(d.echoPort);
      const chunks = Array.from({ length: 100 }, () => randomBytes(64 << 10));
      const back = await echoExchange(c, chunks, halfClose(), T * 2);
      assert.equal(back.length, 100 * (64 << 10));
      assert.equal(sha(back), sha(Buffer.concat(chunks)));
    });

    test('8 concurrent streams keep their bytes apart', { timeout: T * 2 }, async () => {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const c = await dial(d.echoPort);
          const data = randomBytes(256 << 10);
          const back = await echoExchange(c, [data.subarray(0, 1000), data.subarray(1000)], halfClose(), T * 2);
          assert.equal(sha(back), sha(data));
        }),
      );
    });

    test('half-close from the client: the reply still arrives', { timeout: T }, async (t) => {
      if (!halfClose()) {
        t.skip('the peer ends the session on a client FIN (see the protocol test)');
        return;
      }
      // covered byte-exactly by the echo cases (the client ends first, then reads to the end);
      // here the client ends before the server has sent anything at all
      const c = await dial(d.echoPort);
      const got = collect(c, T);
      c.end(Buffer.alloc(0));
      assert.equal((await got).length, 0);
    });

    test('half-close from the server: the client still sends after the server finished', { timeout: T }, async (t) => {
      if (s.serverHalfClose === false) {
        t.skip('the peer closes both directions on a destination FIN (see the protocol test)');
        return;
      }
      const c = await dial(d.greeterPort);
      const hash = d.nextGreeterHash();
      const greeting: Buffer[] = [];
      c.on('data', (b: Buffer) => greeting.push(b));
      const data = randomBytes(64 << 10);
      // send while (or after) the server's FIN travels back
      await new Promise<void>((resolve, reject) => {
        c.once('end', resolve);
        c.once('error', reject);
        c.write(data.subarray(0, 10));
      });
      assert.equal(Buffer.concat(greeting).toString(), 'hello');
      c.end(data.subarray(10));
      assert.equal(await hash, sha(data));
    });

    test('client abort mid-stream frees the server side', { timeout: T * 2 }, async () => {
      const base = await settled(() => d.liveEchoSockets(), T / 2);
      const c = await dial(d.echoPort);
      c.on('error', () => {});
      c.on('data', () => {});
      c.write(randomBytes(256 << 10));
      await until(() => d.liveEchoSockets() > base, T, 'the destination to see the connection');
      c.destroy();
      await until(() => d.liveEchoSockets() === base, T, 'the destination socket to close after the client abort');
    });

    test('UDP echo', { timeout: T }, async (t) => {
      if (!s.udp) {
        t.skip('no UDP for this protocol/server');
        return;
      }
      const pc = await s.outbound.dialUdp(metaFor({ host, port: d.udpPort }, 'udp'), { signal: AbortSignal.timeout(T) });
      try {
        const sent = new Set<string>();
        const got = new Set<string>();
        let done!: () => void;
        const all = new Promise<void>((r) => (done = r));
        pc.onMessage((data, from) => {
          assert.equal(from.port, d.udpPort);
          got.add(sha(data));
          if (got.size === sent.size) done();
        });
        const payloads = Array.from({ length: 20 }, (_, i) => randomBytes(1 + i * 60));
        for (const p of payloads) sent.add(sha(p));
        // datagrams are lossy: resend the missing ones a few times
        for (let round = 0; round < 5 && got.size < sent.size; round++) {
          for (const p of payloads) if (!got.has(sha(p))) pc.send(p, { host, port: d.udpPort });
          await Promise.race([all, new Promise((r) => setTimeout(r, 1000))]);
        }
        assert.deepEqual([...got].sort(), [...sent].sort());
      } finally {
        pc.close();
      }
    });

    test('wrong credentials fail cleanly: no data, bounded time', { timeout: T }, async (t) => {
      if (!s.wrongCredentials) {
        t.skip('the protocol has no credentials');
        return;
      }
      let c: Duplex;
      try {
        c = await dial(d.echoPort, s.wrongCredentials);
      } catch {
        return; // refused at dial: clean
      }
      c.on('error', () => {});
      const got: Buffer[] = [];
      c.on('data', (b: Buffer) => got.push(b));
      c.write('ping');
      await new Promise<void>((resolve) => {
        if (c.destroyed) return resolve();
        c.once('close', () => resolve());
        c.once('end', () => resolve());
        // a server that stalls the bad client instead of closing is still "no data": bound it
        setTimeout(() => {
          c.destroy();
          resolve();
        }, Math.min(T, 8000)).unref();
      });
      if (s.wrongCredentialsMayRelay) assert.ok(!Buffer.concat(got).includes('ping'), 'no echo with wrong credentials');
      else assert.equal(Buffer.concat(got).toString(), '', 'no echoed bytes with wrong credentials');
    });

    test('no descriptor left open by the cases above', { timeout: T }, async () => {
      await s.releaseHeld?.();
      await until(() => fdCount() <= fdsBefore + 2, T - 2000, `descriptors to return to ${fdsBefore}`).catch((e: Error) => {
        throw new Error(`${e.message} (now ${fdCount()})`);
      });
    });

    test('server killed mid-stream: the client stream ends promptly', { timeout: T }, async (t) => {
      if (!s.killServer) {
        t.skip('server process not controllable here');
        return;
      }
      const c = await dial(d.echoPort);
      c.on('error', () => {});
      c.on('data', () => {});
      c.write(randomBytes(64 << 10));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      // a dead server shows as a reset (close) or, on a half-open stream, a FIN (end)
      const closed = new Promise<void>((r) => {
        if (c.destroyed || c.readableEnded) r();
        c.once('close', () => r());
        c.once('end', () => r());
      });
      await s.killServer();
      await closed;
      assert.ok(Date.now() - t0 < T, 'closed in bounded time');
    });
  });
}
