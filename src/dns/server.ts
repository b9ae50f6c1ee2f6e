import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../common/log.js';
import { errorMessage } from '../core/errors.js';
import type { HostService } from '../core/service.js';
import { answerQuery } from './handler.js';
import type { DnsRuntime } from './runtime.js';
import { decode, encode, FLAG, formErrFromRaw, RCODE, reply, type Message } from './wire.js';

/** Bounds of the listener: what a flood can take from the process. */
export interface DnsServerLimits {
  /** queries being answered at once (UDP and TCP together); more are dropped (UDP) or wait (TCP) */
  readonly maxInflight: number;
  /** queries per second one client address may send (a token bucket); more are dropped */
  readonly perClientQps: number;
  /** clients whose buckets are remembered; past it the oldest are forgotten */
  readonly maxClients: number;
  /** TCP connections at once */
  readonly maxTcpConnections: number;
  /** a TCP connection with no complete query for this long is closed */
  readonly tcpIdleMs: number;
  /**
   * awaited before each answer leaves (the cluster's primary: every worker has the fake-ip
   * mappings the answer hands out, so the client's next connection maps back wherever it lands)
   */
  readonly settle?: () => Promise<void>;
}

const DEFAULTS: Omit<DnsServerLimits, 'settle'> = { maxInflight: 2048, perClientQps: 5000, maxClients: 4096, maxTcpConnections: 256, tcpIdleMs: 10_000 };

/** Splits `host:port` (`[v6]:port`, `:port` for every interface). */
export function splitListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new Error(`invalid listen address ${listen}`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[3]) };
}

/** Counters, for tests and the bench. */
export interface DnsServerStats {
  /** datagrams received, whatever became of them */
  received: number;
  udpQueries: number;
  tcpQueries: number;
  dropped: number;
  formErr: number;
  inflight: number;
}

/**
 * `dns.listen`: mihomo's DNS server on UDP and TCP, answering from the live generation's DNS
 * (hosts, fake-ip, the resolver). A HostService: each reload applies the config, and it
 * rebinds only when `listen` (or `enable`) changed. Undecodable queries get FORMERR when their
 * header can be read, else are dropped; responses are never answered; a flood is bounded by a
 * per-client token bucket and a cap on queries in flight (memory stays flat).
 */
export class DnsServer implements HostService<{ readonly dns: { readonly enable: boolean; readonly listen?: string } }> {
  readonly label = 'dns';
  readonly stats: DnsServerStats = { received: 0, udpQueries: 0, tcpQueries: 0, dropped: 0, formErr: 0, inflight: 0 };
  readonly #runtime: () => DnsRuntime | undefined;
  readonly #log: Logger;
  readonly #limits: DnsServerLimits;
  #listen: string | undefined;
  #udp: UdpSocket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(runtime: () => DnsRuntime | undefined, log: Logger, limits: Partial<DnsServerLimits> = {}) {
    this.#runtime = runtime;
    this.#log = log;
    this.#limits = { ...DEFAULTS, ...limits };
  }

  /** The bound addresses, while listening. */
  address(): { udp?: net.AddressInfo; tcp?: net.AddressInfo } {
    return { udp: this.#udp?.address(), tcp: (this.#tcp?.address() as net.AddressInfo | null) ?? undefined };
  }

  async apply(config: { readonly dns: { readonly enable: boolean; readonly listen?: string } }): Promise<void> {
    const want = config.dns.enable ? config.dns.listen : undefined;
    if (want === this.#listen && (want === undefined || this.#udp)) return;
    await this.close();
    this.#listen = want;
    if (want === undefined) return;
    const { host, port } = splitListen(want);
    try {
      this.#udp = await this.#bindUdp(host, port);
      this.#log.info(`DNS server(UDP) listening at: ${fmt(this.#udp.address())}`);
    } catch (err) {
      this.#log.error(`Start DNS server(UDP) error: ${errorMessage(err)}`);
    }
    try {
      // port 0: the TCP side takes the port the UDP side got, as one would expect of "one" server
      const tcpPort = port === 0 && this.#udp ? this.#udp.address().port : port;
      this.#tcp = await this.#bindTcp(host, tcpPort);
      this.#log.info(`DNS server(TCP) listening at: ${fmt(this.#tcp.address() as net.AddressInfo)}`);
    } catch (err) {
      this.#log.error(`Start DNS server(TCP) error: ${errorMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    this.#listen = undefined;
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) {
      for (const c of this.#conns) c.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    }
    this.#buckets.clear();
  }

  /** Whether one more query from `client` is allowed now (per-client token bucket). */
  #admit(client: string): boolean {
    if (this.stats.inflight >= this.#limits.maxInflight) return false;
    const now = Date.now();
    const rate = this.#limits.perClientQps;
    let b = this.#buckets.get(client);
    if (!b) {
      if (this.#buckets.size >= this.#limits.maxClients) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      b = { tokens: rate, at: now };
      this.#buckets.set(client, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Answers one raw query; undefined: send nothing. */
  async #answer(raw: Buffer): Promise<Buffer | undefined> {
    const r = await answerRaw(raw, this.#runtime(), this.#log, this.#limits.settle);
    if (r.formErr) this.stats.formErr++;
    return r.out;
  }

  #bindUdp(host: string, port: number): Promise<UdpSocket> {
    const sock = createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    sock.on('message', (raw, rinfo) => {
      this.stats.received++;
      if (!this.#admit(rinfo.address)) {
        this.stats.dropped++;
        return;
      }
      this.stats.udpQueries++;
      this.stats.inflight++;
      this.#answer(raw)
        .then((out) => {
          if (!out) return;
          sock.send(truncateForUdp(out, raw), rinfo.port, rinfo.address, () => undefined);
        })
        .catch((err: unknown) => this.#log.debug(`[DNS Server] ${errorMessage(err)}`))
        .finally(() => this.stats.inflight--);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.#log.warn(`[DNS Server] udp: ${errorMessage(err)}`));
        resolve(sock);
      });
    });
  }

  #bindTcp(host: string, port: number): Promise<net.Server> {
    const server = net.createServer({ pauseOnConnect: false }, (c) => this.#serveTcp(c));
    server.maxConnections = this.#limits.maxTcpConnections;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.warn(`[DNS Server] tcp: ${errorMessage(err)}`));
        resolve(server);
      });
    });
  }

  /** RFC 7766: length-prefixed queries, answered in any order; bounded per connection. */
  #serveTcp(c: net.Socket): void {
    this.#conns.add(c);
    c.on('close', () => this.#conns.delete(c));
    c.on('error', () => c.destroy());
    c.setTimeout(this.#limits.tcpIdleMs, () => c.destroy());
    const client = c.remoteAddress ?? '';
    let buf: Buffer = Buffer.alloc(0);
    let pending = 0;
    c.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < len + 2) break; // at most 64 KiB + 2 held per connection
        const raw = buf.subarray(2, len + 2);
        buf = buf.subarray(len + 2);
        if (len < 12) {
          c.destroy(); // not even a header: a broken or hostile client
          return;
        }
        if (!this.#admit(client)) {
          this.stats.dropped++;
          continue;
        }
        this.stats.tcpQueries++;
        this.stats.inflight++;
        pending++;
        if (pending >= 32) c.pause();
        this.#answer(Buffer.from(raw))
          .then((out) => {
            if (!out || c.destroyed) return;
            const frame = Buffer.allocUnsafe(out.length + 2);
            frame.writeUInt16BE(out.length, 0);
            out.copy(frame, 2);
            c.write(frame);
          })
          .catch((err: unknown) => this.#log.debug(`[DNS Server] ${errorMessage(err)}`))
          .finally(() => {
            this.stats.inflight--;
            pending--;
            if (pending < 32 && c.isPaused()) c.resume();
          });
      }
    });
  }
}

/**
 * The listener's whole answer to one raw query (what the fuzz target drives): undecodable
 * input gets FORMERR when its header is readable (else nothing), a response is never answered,
 * no DNS (the generation has none) is REFUSED, anything else goes through the handler chain;
 * an answer that cannot be encoded becomes SERVFAIL. Never rejects for any input.
 */
export async function answerRaw(raw: Buffer, rt: DnsRuntime | undefined, log: Logger, settle?: () => Promise<void>): Promise<{ out: Buffer | undefined; formErr: boolean }> {
  let q: Message;
  try {
    q = decode(raw);
  } catch {
    return { out: formErrFromRaw(raw), formErr: true };
  }
  if (q.flags & FLAG.QR) return { out: undefined, formErr: false }; // a response: never answer one (reflection loops)
  const m = rt ? await answerQuery(rt, q) : reply(q, RCODE.REFUSED);
  if (settle) await settle();
  try {
    return { out: encode(m), formErr: false };
  } catch (err) {
    log.debug(`[DNS Server] encode: ${errorMessage(err)}`);
    return { out: encode(reply(q, RCODE.SERVFAIL)), formErr: false };
  }
}

function fmt(a: net.AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * A UDP answer larger than the client can take (512 bytes, or its EDNS payload size up to
 * 4096) goes out with TC set and no records, so the client asks again over TCP.
 */
export function truncateForUdp(out: Buffer, query: Buffer): Buffer {
  if (out.length <= 512) return out;
  let limit = 512;
  try {
    const q = decode(query);
    const opt = q.additionals.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    if (opt?.udpPayloadSize) limit = Math.min(4096, Math.max(512, opt.udpPayloadSize));
  } catch {
    // keep 512
  }
  if (out.length <= limit) return out;
  try {
    const m = decode(out);
    return encode({ ...m, flags: m.flags | FLAG.TC, answers: [], authorities: [], additionals: [] });
  } catch {
    return out.subarray(0, 12);
  }
}
