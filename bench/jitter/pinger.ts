/**
 * The latency flows of `npm run bench:jitter`, run as their own process so the bench's
 * orchestration never sits in the measured loop:
 *
 *   node --import tsx bench/jitter/pinger.ts PROXY_PORT FLOWS SECONDS INTERVAL_MS [udp]
 *
 * Starts a TCP and a UDP echo server on loopback, opens FLOWS SOCKS5 CONNECT tunnels (and, with
 * `udp`, FLOWS SOCKS5 UDP ASSOCIATE sessions) through the proxy to them, then every INTERVAL_MS
 * sends 32 bytes on each flow (a sequence number and a send time) and times the echo. Bounded
 * by SECONDS; prints one JSON object (RTT samples summarised per transport) on stdout.
 * A ping whose echo has not come back 1 s after the end counts as lost.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

const SIZE = 32;
const [proxyPort, flows, seconds, interval] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const withUdp = process.argv[6] === 'udp';

/** RTT samples of one transport (ms), plus what went wrong. */
class Samples {
  readonly rtt: number[] = [];
  sent = 0;
  bad = 0;
  error = '';
  add(ms: number): void {
    this.rtt.push(ms);
  }
  summary(): object {
    const s = Float64Array.from(this.rtt).sort();
    const q = (p: number): number => (s.length ? (s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] as number) : NaN);
    let mean = 0;
    for (const v of s) mean += v;
    mean /= s.length || 1;
    let varSum = 0;
    for (const v of s) varSum += (v - mean) ** 2;
    return {
      sent: this.sent, received: s.length, lost: this.sent - s.length, bad: this.bad, error: this.error,
      mean, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: s.length ? s[s.length - 1] : NaN,
      stddev: Math.sqrt(varSum / (s.length || 1)),
    };
  }
}

function frame(seq: number): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32BE(seq, 0);
  b.writeDoubleBE(performance.now(), 4);
  return b;
}

async function readN(sock: net.Socket, n: number): Promise<Buffer> {
  let buf = Buffer.alloc(0);
  while (buf.length < n) {
    const c = sock.read() as Buffer | null;
    if (c) buf = Buffer.concat([buf, c]);
    else await Promise.race([once(sock, 'readable'), once(sock, 'close').then(() => { throw new Error('closed during handshake'); })]);
  }
  if (buf.length > n) sock.unshift(buf.subarray(n));
  return buf.subarray(0, n);
}

function ipv4(host: string, port: number): Buffer {
  const b = Buffer.alloc(7);
  b[0] = 1;
  host.split('.').forEach((x, i) => (b[1 + i] = Number(x)));
  b.writeUInt16BE(port, 5);
  return b;
}

/** greeting + one request; resolves with the reply's bound address */
async function socks(sock: net.Socket, cmd: number, host: string, port: number): Promise<{ host: string; port: number }> {
  sock.write(Buffer.from([5, 1, 0]));
  const g = await readN(sock, 2);
  if (g[1] !== 0) throw new Error(`socks5 method ${g[1]}`);
  sock.write(Buffer.concat([Buffer.from([5, cmd, 0]), ipv4(host, port)]));
  const head = await readN(sock, 4);
  if (head[1] !== 0) throw new Error(`socks5 reply ${head[1]}`);
  let bound = '127.0.0.1';
  if (head[3] === 1) bound = [...(await readN(sock, 4))].join('.');
  else if (head[3] === 4) await readN(sock, 16);
  else if (head[3] === 3) await readN(sock, (await readN(sock, 1))[0] as number);
  const p = (await readN(sock, 2)).readUInt16BE(0);
  return { host: bound === '0.0.0.0' ? '127.0.0.1' : bound, port: p };
}

async function echoServers(): Promise<{ tcp: net.Server; udp: dgram.Socket }> {
  const tcp = net.createServer({ noDelay: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udp.send(m, r.port, r.address));
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  return { tcp, udp };
}

interface Flow {
  send(seq: number): void;
  close(): void;
}

async function tcpFlow(echoPort: number, out: Samples): Promise<Flow> {
  const sock = net.connect({ port: proxyPort, host: '127.0.0.1', noDelay: true });
  sock.on('error', (e) => (out.error ||= e.message));
  await once(sock, 'connect');
  await socks(sock, 1, '127.0.0.1', echoPort);
  let pending: Buffer = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => {
    const now = performance.now();
    pending = pending.length ? Buffer.concat([pending, c]) : c;
    while (pending.length >= SIZE) {
      out.add(now - pending.readDoubleBE(4));
      pending = pending.subarray(SIZE);
    }
  });
  return { send: (seq) => void (sock.writable && sock.write(frame(seq))), close: () => sock.destroy() };
}

async function udpFlow(echoPort: number, out: Samples): Promise<Flow> {
  const ctl = net.connect({ port: proxyPort, host: '127.0.0.1' });
  ctl.on('error', (e) => (out.error ||= e.message));
  await once(ctl, 'connect');
  const relay = await socks(ctl, 3, '0.0.0.0', 0);
  ctl.resume();
  const u = dgram.createSocket('udp4');
  u.bind(0, '127.0.0.1');
  await once(u, 'listening');
  const head = Buffer.concat([Buffer.from([0, 0, 0]), ipv4('127.0.0.1', echoPort)]);
  u.on('message', (m) => {
    const now = performance.now();
    const off = m[3] === 1 ? 10 : m[3] === 4 ? 22 : 7 + (m[4] ?? 0);
    if (m.length !== off + SIZE) {
      out.bad++;
      return;
    }
    out.add(now - m.readDoubleBE(off + 4));
  });
  return {
    send: (seq) => u.send(Buffer.concat([head, frame(seq)]), relay.port, relay.host),
    close: () => {
      u.close();
      ctl.destroy();
    },
  };
}

async function main(): Promise<void> {
  const echo = await echoServers();
  const tcpPort = (echo.tcp.address() as net.AddressInfo).port;
  const udpPort = echo.udp.address().port;
  const tcp = new Samples();
  const udp = new Samples();
  const list: { flow: Flow; s: Samples }[] = [];
  const guard = setTimeout(() => process.exit(3), (seconds + 20) * 1000);
  for (let i = 0; i < flows; i++) {
    try {
      list.push({ flow: await tcpFlow(tcpPort, tcp), s: tcp });
    } catch (e) {
      tcp.error ||= (e as Error).message;
    }
    if (!withUdp) continue;
    try {
      list.push({ flow: await udpFlow(udpPort, udp), s: udp });
    } catch (e) {
      udp.error ||= (e as Error).message;
    }
  }
  // a short warm-up: the first ping of a flow pays for lazy setup on both sides
  let seq = 0;
  const tick = (count: boolean): void => {
    seq++;
    for (const f of list) {
      if (count) f.s.sent++;
      f.flow.send(seq);
    }
  };
  for (let i = 0; i < 5; i++) {
    tick(false);
    await new Promise((r) => setTimeout(r, interval));
  }
  await new Promise((r) => setTimeout(r, 200));
  tcp.rtt.length = 0;
  udp.rtt.length = 0;
  tcp.bad = udp.bad = 0;
  const end = performance.now() + seconds * 1000;
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (performance.now() >= end) {
        clearInterval(t);
        resolve();
        return;
      }
      tick(true);
    }, interval);
  });
  await new Promise((r) => setTimeout(r, 1000));
  for (const f of list) f.flow.close();
  echo.tcp.close();
  echo.udp.close();
  clearTimeout(guard);
  process.stdout.write(`${JSON.stringify({ flows, interval, seconds, tcp: tcp.summary(), udp: withUdp ? udp.summary() : undefined })}\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ fatal: (e as Error).message })}\n`);
  process.exit(2);
});
