import { isIP } from 'node:net';
import { formatAddress, type Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { Dialer, PacketConn } from '../../core/outbound.js';
import { decode, encode, FLAG, type Message } from '../wire.js';
import { SharedUdp } from './udp-shared.js';
import { onAbort, type Upstream } from './upstream.js';

/** What a UDP upstream needs. */
export interface UdpUpstreamOptions {
  readonly server: Address;
  /** the sockets (the system's, or a proxy's UDP) */
  readonly dialer: Dialer;
  /** asked again over TCP when the reply is truncated */
  readonly tcp?: Upstream;
  readonly log?: { debug(msg: string): void };
  /** the server is dialed from this host (no proxy): keep a few sockets instead of one per query */
  readonly direct?: boolean;
}

/**
 * Plain DNS over UDP. From this host to an IP: a few kept sockets, random ids (udp-shared.ts);
 * through a proxy: one PacketConn per query. The first reply from the server with the query's id wins;
 * a truncated reply is asked again over TCP, as mihomo does.
 */
export function udpUpstream(o: UdpUpstreamOptions): Upstream {
  const host = isIP(o.server.host) === 6 ? `[${o.server.host}]` : o.server.host;
  const address = `udp://${host}:${o.server.port}`;
  const shared = o.direct && isIP(o.server.host) !== 0 ? new SharedUdp(o.server.host, o.server.port) : undefined;
  return {
    address,
    async exchange(q, signal) {
      if (shared) {
        const m = await shared.exchange(q, signal, address);
        if (m.flags & FLAG.TC && o.tcp) {
          o.log?.debug(`[DNS] Truncated reply from ${formatAddress(o.server)} for ${q.questions[0]?.name ?? ''} over UDP, retrying over TCP`);
          return o.tcp.exchange(q, signal);
        }
        return m;
      }
      const id = (Math.random() * 0x10000) >>> 0;
      const wire = encode({ ...q, id });
      const pc = await o.dialer.dialUdp(signal);
      let reply: Message;
      try {
        reply = await new Promise<Message>((resolve, reject) => {
          const off = onAbort(signal, (why) => reject(new ProxyError('ABORTED', `dns ${address}: ${reasonText(why)}`)));
          pc.onMessage((data, from) => {
            if (data.length < 12 || data.readUInt16BE(0) !== id || !samePeer(from, o.server)) return;
            let m: Message;
            try {
              m = decode(data);
            } catch {
              return; // garbage with our id: keep waiting for the real answer
            }
            off();
            resolve(m);
          });
          pc.onClose((err) => {
            off();
            reject(new ProxyError('RESOLVE_FAILED', `dns ${address}: ${err?.message ?? 'socket closed'}`));
          });
          pc.send(wire, o.server);
        });
      } finally {
        closeQuietly(pc);
      }
      if (reply.flags & FLAG.TC && o.tcp) {
        o.log?.debug(`[DNS] Truncated reply from ${formatAddress(o.server)} for ${q.questions[0]?.name ?? ''} over UDP, retrying over TCP`);
        return o.tcp.exchange(q, signal);
      }
      return { ...reply, id: q.id };
    },
    close: () => {
      shared?.close();
      o.tcp?.close();
    },
  };
}

function samePeer(a: Address, b: Address): boolean {
  if (a.port !== b.port) return false;
  if (isIP(b.host) === 0) return true; // a proxy's UDP may report the server by another name
  return a.host === b.host || a.host.replace(/^::ffff:/, '') === b.host;
}

function closeQuietly(pc: PacketConn): void {
  try {
    pc.close();
  } catch {
    // already closed
  }
}

/** An abort reason as text. */
export function reasonText(why: unknown): string {
  if (why instanceof Error) return why.message;
  return typeof why === 'string' ? why : 'aborted';
}
