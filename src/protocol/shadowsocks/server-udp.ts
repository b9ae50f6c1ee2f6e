import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import { unmapIPv4, type Address } from '../../core/address.js';
import { errorMessage } from '../../core/errors.js';
import type { Dialer, PacketConn } from '../../core/outbound.js';
import { AeadKey } from './codec/aead.js';
import { sessionSubkey2022 } from './codec/kdf.js';
import { newUdpSession, openPacket2022, sealPacket2022, type UdpSession } from './codec/packet-2022.js';
import { PacketCodec, type Packet } from './codec/packet.js';
import { SlidingWindow } from './codec/replay.js';
import { encodeUotFrame, UotFrameDecoder } from './codec/uot.js';
import type { ServerKeys } from './server-keys.js';

/** A running UDP relay. */
export interface UdpRelay {
  close(): void;
}

/** The NAT table never holds more than this many associations. */
const MAX_SESSIONS = 1024;

/** One client association: its outbound socket and, for 2022, its session state. */
interface Session {
  conn: PacketConn | undefined;
  /** datagrams waiting while the outbound socket is being opened */
  queue: Packet[] | undefined;
  client: RemoteInfo;
  lastSeen: number;
  // 2022 only
  clientKey?: AeadKey;
  window?: SlidingWindow;
  reply?: UdpSession;
  psk?: Buffer;
  clientSessionId?: Buffer;
}

/**
 * The server's UDP side on `host:port`: opens each datagram, relays its payload through
 * `dialer` and seals replies back to the client's latest address. Pre-2022 sessions are keyed
 * by client address; 2022 sessions by client session id, with the sliding-window replay
 * filter and a server session of their own (SIP022 §3.2).
 */
export async function startUdpRelay(
  keys: ServerKeys,
  host: string,
  port: number,
  dialer: Dialer,
  log: Logger,
  idleMs: number,
): Promise<UdpRelay> {
  const { spec } = keys;
  const sock: Socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  sock.on('error', (err) => log.warn(`[Shadowsocks] UDP: ${errorMessage(err)}`));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  const sessions = new Map<string, Session>();
  const legacy = spec.kind === 'aead2022' ? undefined : new PacketCodec(spec, keys.key);
  const ctl = new AbortController();
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [k, s] of sessions) if (now - s.lastSeen > idleMs) drop(k, s);
  }, Math.min(10_000, Math.max(100, idleMs / 4)));
  sweeper.unref();

  function drop(k: string, s: Session): void {
    sessions.delete(k);
    s.conn?.close();
  }

  function seal(s: Session, from: Address, data: Buffer): Buffer {
    if (legacy) return legacy.encode(from, data);
    return sealPacket2022(spec, [s.psk!], s.reply!, from, data, s.clientSessionId);
  }

  function open(msg: Buffer, rinfo: RemoteInfo): { key: string; packet: Packet; s: Session } {
    if (legacy) {
      const packet = legacy.decode(msg);
      const key = `${rinfo.address}:${rinfo.port}`;
      return { key, packet, s: sessions.get(key) ?? create(key, rinfo) };
    }
    let found: Session | undefined;
    const p = openPacket2022(spec, keys.keys2022!, msg, false, (id, psk) => {
      found = sessions.get(id.toString('hex'));
      return found?.clientKey ?? new AeadKey(spec.aead!, sessionSubkey2022(psk, id));
    });
    const key = p.sessionId.toString('hex');
    const s = found ?? sessions.get(key) ?? create(key, rinfo);
    if (!s.window) {
      s.window = new SlidingWindow();
      s.psk = p.psk;
      s.clientSessionId = Buffer.from(p.sessionId);
      s.reply = newUdpSession(spec, p.psk);
      if (spec.aead !== 'chacha20-poly1305') s.clientKey = new AeadKey(spec.aead!, sessionSubkey2022(p.psk, p.sessionId));
    }
    if (!s.window.check(p.packetId)) throw new Error(`replayed packet id ${p.packetId}`);
    s.window.add(p.packetId);
    return { key, packet: p, s };
  }

  function create(key: string, rinfo: RemoteInfo): Session {
    if (sessions.size >= MAX_SESSIONS) {
      const [oldKey, old] = sessions.entries().next().value as [string, Session];
      drop(oldKey, old);
    }
    const s: Session = { conn: undefined, queue: [], client: rinfo, lastSeen: Date.now() };
    sessions.set(key, s);
    dialer.dialUdp(ctl.signal).then(
      (conn) => {
        if (sessions.get(key) !== s) return conn.close();
        s.conn = conn;
        conn.onMessage((data, from) => {
          s.lastSeen = Date.now();
          sock.send(seal(s, from, data), s.client.port, s.client.address);
        });
        conn.onClose(() => sessions.get(key) === s && sessions.delete(key));
        for (const p of s.queue ?? []) conn.send(p.payload, p.address);
        s.queue = undefined;
      },
      (err) => {
        log.warn(`[Shadowsocks] UDP: ${errorMessage(err)}`);
        if (sessions.get(key) === s) sessions.delete(key);
      },
    );
    return s;
  }

  sock.on('message', (msg, rinfo) => {
    let r;
    try {
      r = open(msg, rinfo);
    } catch (err) {
      log.debug(`[Shadowsocks] UDP from ${unmapIPv4(rinfo.address)}:${rinfo.port} dropped: ${errorMessage(err)}`);
      return;
    }
    const s = r.s;
    s.client = rinfo; // replies follow the client's latest address
    s.lastSeen = Date.now();
    if (s.conn) s.conn.send(r.packet.payload, r.packet.address);
    else if (s.queue && s.queue.length < 32) s.queue.push(r.packet);
  });

  return {
    close() {
      clearInterval(sweeper);
      ctl.abort();
      for (const [k, s] of sessions) drop(k, s);
      sock.close();
    },
  };
}

/**
 * UDP-over-TCP on the server: frames from `conn` go out through one outbound PacketConn,
 * replies come back as frames. Ends when either side does.
 */
export function relayUot(conn: Duplex, version: 1 | 2, dialer: Dialer, signal: AbortSignal): void {
  const decoder = new UotFrameDecoder(version === 2);
  const packets: Packet[] = [];
  const queue: Packet[] = [];
  let pc: PacketConn | undefined;
  conn.on('error', () => pc?.close());
  conn.on('close', () => pc?.close());
  conn.on('end', () => conn.end());
  conn.on('data', (chunk: Buffer) => {
    packets.length = 0;
    try {
      decoder.decode(chunk, packets);
    } catch {
      conn.destroy();
      return;
    }
    for (const p of packets) {
      if (pc) pc.send(p.payload, p.address);
      else if (queue.length < 32) queue.push(p);
    }
  });
  conn.resume();
  dialer.dialUdp(signal).then(
    (c) => {
      if (conn.destroyed) return c.close();
      pc = c;
      c.onMessage((data, from) => {
        if (!conn.destroyed && conn.writableLength < 4 << 20) conn.write(encodeUotFrame(from, data));
      });
      c.onClose(() => conn.destroy());
      for (const p of queue) c.send(p.payload, p.address);
      queue.length = 0;
    },
    () => conn.destroy(),
  );
}
