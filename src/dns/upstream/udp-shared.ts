import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { ProxyError } from '../../core/errors.js';
import { decode, encode, type Message } from '../wire.js';

/** Sockets one upstream keeps; each query takes one at random (a random source port among them). */
const SOCKETS = 4;
/** Queries in flight per socket (ids are 16 bits; far fewer keeps collisions rare to find). */
const MAX_PENDING = 4096;

interface Pending {
  readonly resolve: (m: Message) => void;
  readonly reject: (e: Error) => void;
}

interface Kept {
  readonly sock: Socket;
  readonly pending: Map<number, Pending>;
}

/**
 * Plain UDP to an IP-literal server from this host, on a few kept sockets: a query goes out
 * with a random id on a random one of them and its reply is matched by id and by the server's
 * address (anything else arriving there is ignored). Saves a socket per query, which is most of
 * the cost of a cache miss; queries through a proxy use the proxy's PacketConn instead.
 * Sockets idle for 30 s are closed.
 */
export class SharedUdp {
  readonly #host: string;
  readonly #port: number;
  readonly #kept: (Kept | undefined)[] = new Array<Kept | undefined>(SOCKETS).fill(undefined);
  #idle: NodeJS.Timeout | undefined;
  #last = Date.now();

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  exchange(q: Message, signal: AbortSignal, address: string): Promise<Message> {
    const slot = (Math.random() * SOCKETS) | 0;
    const k = (this.#kept[slot] ??= this.#open(slot));
    if (k.pending.size >= MAX_PENDING) return Promise.reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: too many queries in flight`));
    let id = (Math.random() * 0x10000) | 0;
    while (k.pending.has(id)) id = (id + 1) & 0xffff;
    const wire = encode({ ...q, id });
    this.#last = Date.now();
    this.#armIdle();
    return new Promise<Message>((resolve, reject) => {
      const onAbort = (): void => {
        k.pending.delete(id);
        reject(new ProxyError('ABORTED', `dns ${address}: ${signal.reason instanceof Error ? signal.reason.message : 'aborted'}`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      k.pending.set(id, {
        resolve: (m) => {
          signal.removeEventListener('abort', onAbort);
          resolve({ ...m, id: q.id });
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      k.sock.send(wire, this.#port, this.#host, (err) => {
        if (!err) return;
        const p = k.pending.get(id);
        k.pending.delete(id);
        p?.reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: ${err.message}`));
      });
    });
  }

  #open(slot: number): Kept {
    const sock = createSocket(isIP(this.#host) === 6 ? 'udp6' : 'udp4');
    const k: Kept = { sock, pending: new Map() };
    sock.on('message', (data, rinfo) => {
      if (data.length < 12 || rinfo.port !== this.#port || rinfo.address.replace(/^::ffff:/, '') !== this.#host) return;
      const p = k.pending.get(data.readUInt16BE(0));
      if (!p) return;
      let m: Message;
      try {
        m = decode(data);
      } catch {
        return; // garbage with a live id: keep waiting for the real answer
      }
      k.pending.delete(m.id);
      p.resolve(m);
    });
    sock.on('error', (err) => this.#drop(slot, new ProxyError('RESOLVE_FAILED', `dns udp: ${err.message}`)));
    sock.unref();
    return k;
  }

  #armIdle(): void {
    if (this.#idle) return;
    this.#idle = setInterval(() => {
      if (Date.now() - this.#last < 30_000 || this.#kept.some((k) => k && k.pending.size > 0)) return;
      this.close();
    }, 10_000);
    this.#idle.unref();
  }

  #drop(slot: number, err: Error): void {
    const k = this.#kept[slot];
    if (!k) return;
    this.#kept[slot] = undefined;
    for (const p of k.pending.values()) p.reject(err);
    k.pending.clear();
    try {
      k.sock.close();
    } catch {
      // already closed
    }
  }

  close(): void {
    if (this.#idle) clearInterval(this.#idle);
    this.#idle = undefined;
    for (let i = 0; i < SOCKETS; i++) this.#drop(i, new ProxyError('RESOLVE_FAILED', 'dns udp: closed'));
  }
}
