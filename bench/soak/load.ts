/**
 * The soak's load, all through clash-ts over loopback, every byte checked end to end (the far
 * end is the runner's echo server, or nginx for the bulk downloads):
 * - new connections at a steady rate, round-robin over the protocol rows, half SOCKS5 and half
 *   HTTP CONNECT (the mixed listener's two paths): a seeded payload out, the same bytes back;
 * - long-lived tunnels, each exchanging a seeded chunk every 2-6 s;
 * - SOCKS5 UDP flows (DIRECT and Shadowsocks), a datagram a second each.
 * Every wait is bounded; a failure is counted by kind and the tunnel or flow reopened.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { socks5Connect, socks5UdpAssociate, type Socks5Udp } from '../../test/support/socks-client.js';
import type { Row } from './config.js';
import { Rng } from './rng.js';
import { errorKind, LoadStats } from './stats.js';

/** Every wait of one exchange is bounded by this. */
export const EXCHANGE_TIMEOUT_MS = 20_000;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Where the load goes. */
export interface LoadTarget {
  readonly rows: readonly Row[];
  /** DEFAULT-MIXED (UDP on) */
  readonly mixedPort: number;
  /** a row listener with UDP on whose proxy relays UDP (ss) */
  readonly udpRowPort?: number;
  readonly echoPort: number;
  readonly udpEchoPort: number;
}

/** The load's shape. */
export interface LoadShape {
  readonly rate: number;
  readonly tunnels: number;
  readonly udpFlows: number;
  readonly seed: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(Object.assign(new Error(`${what} timeout after ${ms} ms`), { code: 'timeout' })), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** HTTP CONNECT through the mixed listener (its HTTP path). */
async function httpConnect(proxyPort: number, host: string, port: number): Promise<net.Socket> {
  const sock = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
  sock.on('error', () => {});
  await once(sock, 'connect');
  sock.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  let head = Buffer.alloc(0);
  for (;;) {
    const c = sock.read() as Buffer | null;
    if (c) {
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) {
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
        if (status !== '200') {
          sock.destroy();
          throw new Error(`HTTP ${status ?? 'garbled'} to CONNECT`);
        }
        if (end + 4 < head.length) sock.unshift(head.subarray(end + 4));
        return sock;
      }
      if (head.length > 16 << 10) throw new Error('HTTP CONNECT answer too long');
      continue;
    }
    if (sock.readableEnded || sock.destroyed) throw new Error('closed before the CONNECT answer');
    await Promise.race([once(sock, 'readable'), once(sock, 'close')]);
  }
}

/** Closes a UDP association once; a second close (stop() racing the flow's own) is a no-op. */
function closeQuietly(u: Socks5Udp): void {
  try {
    u.close();
  } catch {
    // already closed
  }
}

/** Collects a socket's bytes so an exchange can wait for exactly n of them. */
class Echoed {
  #buf: Buffer[] = [];
  #len = 0;
  #want = 0;
  #wake: (() => void) | undefined;
  #closed: Error | undefined;
  constructor(readonly sock: net.Socket) {
    sock.on('data', (c: Buffer) => {
      this.#buf.push(c);
      this.#len += c.length;
      if (this.#len >= this.#want) this.#wake?.();
    });
    const gone = (why: string) => (): void => {
      this.#closed ??= new Error(why);
      this.#wake?.();
    };
    sock.on('end', gone('ended by the far side'));
    sock.on('close', gone('closed'));
    sock.on('error', (e) => {
      this.#closed ??= e;
      this.#wake?.();
    });
  }
  /** the next n bytes (rejects if the socket ends first) */
  async take(n: number): Promise<Buffer> {
    this.#want = n;
    while (this.#len < n) {
      if (this.#closed) throw this.#closed;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
    const all = Buffer.concat(this.#buf);
    this.#buf = all.length > n ? [all.subarray(n)] : [];
    this.#len = all.length - n;
    return all.subarray(0, n);
  }
}

/** The running load; `stop()` ends everything it opened and resolves once all is closed. */
export class Load {
  readonly stats = new LoadStats();
  #running = true;
  readonly #rng: Rng;
  readonly #open = new Set<net.Socket>();
  readonly #udp = new Set<Socks5Udp>();
  readonly #tasks = new Set<Promise<void>>();
  #rowTurn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly target: LoadTarget,
    readonly shape: LoadShape,
  ) {
    this.#rng = new Rng(shape.seed);
  }

  #nextRow(): Row {
    const r = this.target.rows[this.#rowTurn % this.target.rows.length];
    this.#rowTurn++;
    return r;
  }

  #track(p: Promise<void>): void {
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  async #dial(row: Row, socks: boolean): Promise<net.Socket> {
    const s = socks ? await socks5Connect(row.port, '127.0.0.1', this.target.echoPort) : await httpConnect(row.port, '127.0.0.1', this.target.echoPort);
    this.#open.add(s);
    s.once('close', () => this.#open.delete(s));
    return s;
  }

  /** Starts every part of the load: tunnels ramp up at up to 200 a second. */
  start(): void {
    const rng = this.#rng;
    const tunnelRngs = Array.from({ length: this.shape.tunnels }, () => rng.fork());
    const udpRngs = Array.from({ length: this.shape.udpFlows }, () => rng.fork());
    const connRng = rng.fork();
    tunnelRngs.forEach((r, i) => {
      const at = Math.floor(i / 200) * 1000 + (i % 200) * 5;
      setTimeout(() => this.#running && this.#track(this.#tunnel(r, i)), at);
    });
    udpRngs.forEach((r, i) => setTimeout(() => this.#running && this.#track(this.#udpFlow(r, i)), i * 50));
    if (this.shape.rate > 0) {
      const every = 1000 / this.shape.rate;
      let due = performance.now();
      const tick = (): void => {
        if (!this.#running) return;
        const now = performance.now();
        // a steady rate: catch up after a stall, at most one second's worth at once
        let n = 0;
        while (due <= now && n < this.shape.rate) {
          this.#track(this.#oneConnection(connRng));
          due += every;
          n++;
        }
        if (due < now - 1000) due = now;
        this.#timer = setTimeout(tick, Math.max(1, due - performance.now()));
      };
      tick();
    }
  }

  /** One new connection: dial, a 1-64 KiB payload out and back, half-close, its close. */
  async #oneConnection(rng: Rng): Promise<void> {
    const row = this.#nextRow();
    const socks = rng.next() < 0.5;
    const payload = rng.bytes(rng.int(1, 64 << 10));
    const t0 = performance.now();
    let s: net.Socket | undefined;
    try {
      s = await withTimeout(this.#dial(row, socks), EXCHANGE_TIMEOUT_MS, 'dial');
      const e = new Echoed(s);
      s.write(payload);
      const back = await withTimeout(e.take(payload.length), EXCHANGE_TIMEOUT_MS, 'echo');
      if (sha(back) !== sha(payload)) {
        this.stats.bytesCorrupted += payload.length;
        this.stats.error(`connection ${row.name}: mismatch`, `${payload.length} bytes came back different`);
        return;
      }
      this.stats.bytesVerified += payload.length;
      this.stats.connectionsOk++;
      this.stats.connectMs(performance.now() - t0);
      s.end();
      // the echo server ends after our FIN: the close must follow (bounded)
      if (!s.destroyed) await withTimeout(once(s, 'close').then(() => undefined), EXCHANGE_TIMEOUT_MS, 'close');
    } catch (err) {
      if (this.#running) this.stats.error(errorKind(`connection ${row.name} ${socks ? 'socks5' : 'connect'}`, err), String((err as Error)?.message ?? err));
    } finally {
      s?.destroy();
    }
  }

  /** A long-lived tunnel: reopened after a failure (1 s later) while the load runs. */
  async #tunnel(rng: Rng, i: number): Promise<void> {
    const row = this.target.rows[i % this.target.rows.length];
    while (this.#running) {
      let s: net.Socket | undefined;
      try {
        s = await withTimeout(this.#dial(row, i % 2 === 0), EXCHANGE_TIMEOUT_MS, 'dial');
        this.stats.tunnelsLive++;
        const e = new Echoed(s);
        try {
          while (this.#running) {
            await this.#sleep(rng.int(2000, 6000));
            if (!this.#running) break;
            const chunk = rng.bytes(rng.int(256, 8192));
            const t0 = performance.now();
            s.write(chunk);
            const back = await withTimeout(e.take(chunk.length), EXCHANGE_TIMEOUT_MS, 'tunnel echo');
            if (sha(back) !== sha(chunk)) {
              this.stats.bytesCorrupted += chunk.length;
              this.stats.error(`tunnel ${row.name}: mismatch`, `${chunk.length} bytes came back different`);
              break;
            }
            this.stats.bytesVerified += chunk.length;
            this.stats.exchangesOk++;
            this.stats.rttMs(performance.now() - t0);
          }
        } finally {
          this.stats.tunnelsLive--;
        }
      } catch (err) {
        if (this.#running) this.stats.error(errorKind(`tunnel ${row.name}`, err), String((err as Error)?.message ?? err));
      } finally {
        s?.destroy();
      }
      if (this.#running) await this.#sleep(1000);
    }
  }

  /** A SOCKS5 UDP flow: a datagram a second (seq + seeded bytes), its echo checked. */
  async #udpFlow(rng: Rng, i: number): Promise<void> {
    const port = i % 2 === 1 && this.target.udpRowPort ? this.target.udpRowPort : this.target.mixedPort;
    const where = port === this.target.mixedPort ? 'udp direct' : 'udp ss';
    while (this.#running) {
      let u: Socks5Udp | undefined;
      try {
        u = await withTimeout(socks5UdpAssociate(port), EXCHANGE_TIMEOUT_MS, 'udp associate');
        this.#udp.add(u);
        let seq = 0;
        let lostInRow = 0;
        while (this.#running) {
          await this.#sleep(1000);
          if (!this.#running) break;
          const prefix = Buffer.from(`${i}:${++seq}:`);
          const body = Buffer.concat([prefix, rng.bytes(rng.int(32, 1200))]);
          u.send(body, '127.0.0.1', this.target.udpEchoPort);
          this.stats.udpSent++;
          // answers of earlier, late datagrams are skipped by their sequence prefix
          let got: Buffer | undefined;
          const deadline = Date.now() + 3000;
          while (!got && Date.now() < deadline) {
            const r = await u.receive(Math.max(1, deadline - Date.now())).catch(() => undefined);
            if (!r) break;
            if (r.data.subarray(0, prefix.length).equals(prefix)) got = r.data;
          }
          if (!got) {
            this.stats.udpLost++;
            if (++lostInRow >= 5) throw Object.assign(new Error('5 datagrams in a row unanswered'), { code: 'udp silent' });
            continue;
          }
          lostInRow = 0;
          if (sha(got) !== sha(body)) {
            this.stats.bytesCorrupted += body.length;
            this.stats.error(`${where}: mismatch`, `${body.length} bytes came back different`);
          } else {
            this.stats.bytesVerified += body.length;
            this.stats.udpVerified++;
          }
        }
      } catch (err) {
        if (this.#running) this.stats.error(errorKind(where, err), String((err as Error)?.message ?? err));
      } finally {
        if (u && this.#udp.delete(u)) closeQuietly(u);
      }
      if (this.#running) await this.#sleep(1000);
    }
  }

  readonly #sleepers = new Set<() => void>();
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.#sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  /** Stops the load: no new work, every socket it holds closed, every task finished (bounded). */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    for (const wake of [...this.#sleepers]) wake();
    for (const s of this.#open) s.destroy();
    for (const u of this.#udp) closeQuietly(u);
    this.#udp.clear();
    await withTimeout(Promise.allSettled([...this.#tasks]).then(() => undefined), 30_000, 'load stop').catch(() => undefined);
    for (const s of this.#open) s.destroy();
  }
}
