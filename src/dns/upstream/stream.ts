import type { Duplex } from 'node:stream';
import { errorMessage, ProxyError } from '../../core/errors.js';
import { decode, encode, type Message } from '../wire.js';
import { reasonText } from './udp.js';
import { onAbort, type Upstream } from './upstream.js';

/** What a stream upstream (TCP or DNS over TLS) needs. */
export interface StreamUpstreamOptions {
  /** `tcp://host:53`, `tls://host:853` */
  readonly address: string;
  /** opens one connection (TCP, or TLS over it) */
  readonly connect: (signal: AbortSignal) => Promise<Duplex>;
  /** a connection idle this long is closed (default 30 s) */
  readonly idleMs?: number;
}

/** Queries waiting on one connection, at most; more open no second connection, they fail fast. */
const MAX_PENDING = 512;

interface Pending {
  readonly resolve: (m: Message) => void;
  readonly reject: (err: Error) => void;
}

/** One kept connection with its queries by wire id. */
class Conn {
  readonly pending = new Map<number, Pending>();
  #buf: Buffer = Buffer.alloc(0);
  #nextId = (Math.random() * 0x10000) >>> 0;
  #idle: NodeJS.Timeout | undefined;
  dead = false;

  constructor(
    readonly sock: Duplex,
    readonly address: string,
    readonly idleMs: number,
    readonly onDead: (c: Conn) => void,
  ) {
    sock.on('data', (chunk: Buffer) => this.#data(chunk));
    sock.on('error', (err) => this.fail(new ProxyError('RESOLVE_FAILED', `dns ${address}: ${errorMessage(err)}`)));
    sock.on('close', () => this.fail(new ProxyError('RESOLVE_FAILED', `dns ${address}: connection closed`)));
    sock.on('end', () => sock.end());
    this.#arm();
  }

  /** Sends `q` under a fresh id; resolves with its reply. */
  send(q: Message): [number, Promise<Message>] {
    let id = this.#nextId;
    for (let i = 0; this.pending.has(id) && i < 0x10000; i++) id = (id + 1) & 0xffff;
    this.#nextId = (id + 1) & 0xffff;
    const wire = encode({ ...q, id });
    const frame = Buffer.allocUnsafe(wire.length + 2);
    frame.writeUInt16BE(wire.length, 0);
    wire.copy(frame, 2);
    const p = new Promise<Message>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.#arm();
      this.sock.write(frame);
    });
    return [id, p];
  }

  forget(id: number): void {
    this.pending.delete(id);
  }

  #data(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 2) {
      const len = this.#buf.readUInt16BE(0);
      if (this.#buf.length < len + 2) break; // a frame is at most 65 537 bytes: bounded
      const body = this.#buf.subarray(2, len + 2);
      this.#buf = this.#buf.subarray(len + 2);
      let m: Message;
      try {
        m = decode(body);
      } catch (err) {
        this.fail(new ProxyError('RESOLVE_FAILED', `dns ${this.address}: ${errorMessage(err)}`));
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) continue;
      this.pending.delete(m.id);
      p.resolve(m);
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.pending.size === 0) this.fail(new ProxyError('RESOLVE_FAILED', `dns ${this.address}: idle`));
      else this.#arm();
    }, this.idleMs);
    this.#idle.unref();
  }

  fail(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (this.#idle) clearTimeout(this.#idle);
    this.onDead(this);
    this.sock.destroy();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * DNS over a stream (RFC 7766 framing: a 2-byte length before each message): plain `tcp://`
 * and `tls://` (DoT). One connection is kept and queries are pipelined on it by id; a
 * connection that dies fails its queries, and a query that found a stale kept connection is
 * sent once more on a fresh one.
 */
export function streamUpstream(o: StreamUpstreamOptions): Upstream {
  const idleMs = o.idleMs ?? 30_000;
  let conn: Conn | undefined;
  let opening: Promise<Conn> | undefined;

  function open(signal: AbortSignal): Promise<Conn> {
    if (conn && !conn.dead) return Promise.resolve(conn);
    opening ??= o
      .connect(signal)
      .then((sock) => {
        const c = new Conn(sock, o.address, idleMs, (d) => {
          if (conn === d) conn = undefined;
        });
        conn = c;
        return c;
      })
      .finally(() => (opening = undefined));
    return opening;
  }

  async function once(q: Message, signal: AbortSignal): Promise<Message> {
    const c = await open(signal);
    if (c.pending.size >= MAX_PENDING) throw new ProxyError('RESOLVE_FAILED', `dns ${o.address}: too many queries in flight`);
    const [id, sent] = c.send(q);
    return new Promise<Message>((resolve, reject) => {
      const off = onAbort(signal, (why) => {
        c.forget(id);
        reject(new ProxyError('ABORTED', `dns ${o.address}: ${reasonText(why)}`));
      });
      sent.then(
        (m) => {
          off();
          resolve({ ...m, id: q.id });
        },
        (err: unknown) => {
          off();
          reject(err);
        },
      );
    });
  }

  return {
    address: o.address,
    async exchange(q, signal) {
      const reused = conn !== undefined && !conn.dead;
      try {
        return await once(q, signal);
      } catch (err) {
        if (!reused || signal.aborted) throw err;
        return once(q, signal); // the kept connection had gone stale
      }
    },
    close() {
      conn?.fail(new ProxyError('RESOLVE_FAILED', `dns ${o.address}: closed`));
      conn = undefined;
    },
  };
}
