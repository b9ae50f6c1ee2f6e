import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';

/**
 * Reads exactly n bytes in paused mode (`read(n)` + 'readable'), so nothing that arrives after
 * them is consumed: the caller can attach a 'data' listener afterwards and lose no byte.
 */
export async function readN(sock: net.Socket, n: number): Promise<Buffer> {
  for (;;) {
    const b = sock.read(n) as Buffer | null;
    if (b) {
      if (b.length < n) throw new Error(`socket ended after ${b.length} of ${n} bytes`);
      return b;
    }
    if (sock.readableEnded || sock.destroyed) throw new Error(`socket closed before ${n} bytes arrived`);
    await Promise.race([once(sock, 'readable'), once(sock, 'close').then(() => undefined)]);
  }
}

function encodeAddr(host: string, port: number): Buffer {
  const p = Buffer.from([port >> 8, port & 0xff]);
  if (net.isIPv4(host)) return Buffer.concat([Buffer.from([1, ...host.split('.').map(Number)]), p]);
  if (net.isIPv6(host)) {
    const b = Buffer.alloc(17);
    b[0] = 4;
    expandV6(host).forEach((g, i) => b.writeUInt16BE(g, 1 + i * 2));
    return Buffer.concat([b, p]);
  }
  const name = Buffer.from(host);
  return Buffer.concat([Buffer.from([3, name.length]), name, p]);
}

/** `::1` → eight 16-bit groups (test inputs only: no embedded IPv4). */
function expandV6(a: string): number[] {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':').map((x) => parseInt(x, 16)) : [];
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

async function greet(sock: net.Socket, auth?: { user: string; pass: string }): Promise<void> {
  sock.write(Buffer.from(auth ? [5, 1, 2] : [5, 1, 0]));
  const m = await readN(sock, 2);
  if (m[1] === 2 && auth) {
    const u = Buffer.from(auth.user);
    const p = Buffer.from(auth.pass);
    sock.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const r = await readN(sock, 2);
    if (r[1] !== 0) throw new Error('socks5 auth rejected');
  } else if (m[1] !== 0) throw new Error(`socks5 method refused (${m[1]})`);
}

async function readReply(sock: net.Socket): Promise<{ rep: number; host: string; port: number }> {
  const head = await readN(sock, 4);
  let host = '';
  if (head[3] === 1) host = [...(await readN(sock, 4))].join('.');
  else if (head[3] === 4) {
    const b = await readN(sock, 16);
    host = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
  } else if (head[3] === 3) host = (await readN(sock, (await readN(sock, 1))[0])).toString();
  const port = (await readN(sock, 2)).readUInt16BE(0);
  return { rep: head[1], host, port };
}

/** A SOCKS5 CONNECT through the proxy; rejects with the REP code on failure. */
export async function socks5Connect(proxyPort: number, host: string, port: number, auth?: { user: string; pass: string }): Promise<net.Socket> {
  const sock = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
  sock.on('error', () => {});
  await once(sock, 'connect');
  await greet(sock, auth);
  sock.write(Buffer.concat([Buffer.from([5, 1, 0]), encodeAddr(host, port)]));
  const r = await readReply(sock);
  if (r.rep !== 0) {
    sock.destroy();
    throw Object.assign(new Error(`socks5 reply ${r.rep}`), { rep: r.rep });
  }
  return sock;
}

/** A SOCKS5 UDP association: the control connection plus a local UDP socket. */
export interface Socks5Udp {
  send(data: Buffer, host: string, port: number): void;
  /** the next datagram's payload and its source as the proxy reports it (bounded wait) */
  receive(timeoutMs?: number): Promise<{ data: Buffer; host: string; port: number }>;
  close(): void;
}

/** Opens UDP ASSOCIATE on the proxy. */
export async function socks5UdpAssociate(proxyPort: number): Promise<Socks5Udp> {
  const ctl = net.connect({ port: proxyPort, host: '127.0.0.1' });
  ctl.on('error', () => {});
  await once(ctl, 'connect');
  await greet(ctl);
  ctl.write(Buffer.concat([Buffer.from([5, 3, 0]), encodeAddr('0.0.0.0', 0)]));
  const r = await readReply(ctl);
  if (r.rep !== 0) throw new Error(`udp associate refused: ${r.rep}`);
  const relayHost = r.host === '0.0.0.0' || r.host === '::' || r.host === '0:0:0:0:0:0:0:0' ? '127.0.0.1' : r.host;
  const udp = dgram.createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const queue: { data: Buffer; host: string; port: number }[] = [];
  const waiting: ((v: { data: Buffer; host: string; port: number }) => void)[] = [];
  udp.on('message', (msg) => {
    if (msg.length < 10 || msg[2] !== 0) return;
    let off = 4;
    let host = '';
    if (msg[3] === 1) {
      host = [...msg.subarray(4, 8)].join('.');
      off = 8;
    } else if (msg[3] === 4) {
      host = Array.from({ length: 8 }, (_, i) => msg.readUInt16BE(4 + i * 2).toString(16)).join(':');
      off = 20;
    } else if (msg[3] === 3) {
      host = msg.subarray(5, 5 + msg[4]).toString();
      off = 5 + msg[4];
    }
    const item = { data: msg.subarray(off + 2), host, port: msg.readUInt16BE(off) };
    const w = waiting.shift();
    if (w) w(item);
    else queue.push(item);
  });
  return {
    send(data, host, port) {
      udp.send(Buffer.concat([Buffer.from([0, 0, 0]), encodeAddr(host, port), data]), r.port, relayHost);
    },
    receive(timeoutMs = 5000) {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no UDP reply')), timeoutMs);
        waiting.push((v) => {
          clearTimeout(t);
          resolve(v);
        });
      });
    },
    close() {
      udp.close();
      ctl.destroy();
    },
  };
}
