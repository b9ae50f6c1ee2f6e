/**
 * The DNS peers the DNS tests start on loopback: Debian's dnsmasq and unbound (DoT, DoH) with
 * their own config files, and small Node servers for what no daemon does on purpose (never
 * answer, SERVFAIL, truncate, count queries). Each is stopped by its own PID / handle.
 */
import { createSocket, type Socket } from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import { testCerts } from '../support/certs.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';

/** A started dnsmasq with the names it serves. */
export interface Dnsmasq extends Peer {
  readonly port: number;
}

/**
 * dnsmasq on 127.0.0.1:port (UDP and TCP), no upstream, answering `records` (name → IPv4),
 * names from `hostsText` (a hosts file), and NXDOMAIN (with an SOA, so negative caching has a
 * TTL) for the rest of `.test`.
 */
export async function startDnsmasq(records: Record<string, string>, hostsText = '', extra: string[] = []): Promise<Dnsmasq> {
  const dir = peerDir('dnsmasq');
  const port = await freePort();
  const hosts = writePeerFile(dir, 'hosts', hostsText);
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hosts}`,
    '--pid-file=',
    '--log-facility=-',
    '--user=root',
    '--local-ttl=300',
    '--auth-ttl=300',
    '--cache-size=1000',
    '--dns-forward-max=1000',
    ...Object.entries(records).map(([n, ip]) => `--host-record=${n},${ip}`),
    '--local=/test/',
    ...extra,
  ];
  const peer = await startPeer({ name: 'dnsmasq', command: '/usr/sbin/dnsmasq', args, readyPort: port });
  return { ...peer, port };
}

/** A started unbound serving DoT and DoH with the test certificate. */
export interface Unbound extends Peer {
  readonly port: number;
  readonly dotPort: number;
  readonly dohPort: number;
}

/** unbound with local data only: plain on `port`, DoT on `dotPort`, DoH (HTTP/2) on `dohPort`. */
export async function startUnbound(records: Record<string, string>): Promise<Unbound> {
  const dir = peerDir('unbound');
  const certs = testCerts();
  const [port, dotPort, dohPort] = [await freePort(), await freePort(), await freePort()];
  const local = Object.entries(records)
    .map(([n, ip]) => `  local-data: "${n}. 60 IN A ${ip}"`)
    .join('\n');
  const conf = `server:
  interface: 127.0.0.1@${port}
  interface: 127.0.0.1@${dotPort}
  interface: 127.0.0.1@${dohPort}
  port: ${port}
  tls-port: ${dotPort}
  https-port: ${dohPort}
  tls-service-key: "${certs.keyFile}"
  tls-service-pem: "${certs.certFile}"
  http-endpoint: "/dns-query"
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-ip6: no
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "test." static
  local-data: "test. 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 30"
${local}
remote-control:
  control-enable: no
`;
  const file = writePeerFile(dir, 'unbound.conf', conf);
  const peer = await startPeer({ name: 'unbound', command: '/usr/sbin/unbound', args: ['-d', '-c', file], readyPort: dohPort });
  return { ...peer, port, dotPort, dohPort };
}

/** A Node UDP (and TCP) DNS server with a behaviour. */
export interface FakeServer {
  readonly port: number;
  /** queries received (UDP and TCP) */
  readonly seen: { udp: number; tcp: number };
  close(): Promise<void>;
}

export type Behaviour = 'silent' | 'servfail' | 'truncate' | { answer: string; ttl?: number; aaaa?: string; aaaaDelayMs?: number };

/**
 * A loopback DNS server: `silent` never answers; `servfail` answers SERVFAIL; `truncate` sets
 * TC on every UDP reply (no records) and answers fully over TCP; `{answer}` answers every A
 * query with that address (and AAAA with `aaaa`, over UDP `aaaaDelayMs` late).
 */
export async function startFakeServer(behaviour: Behaviour): Promise<FakeServer> {
  // the UDP port is the kernel's pick; the TCP side wants the same number, which may be taken: try again
  for (let attempt = 0; ; attempt++) {
    try {
      return await startFakeServerOnce(behaviour);
    } catch (err) {
      if (attempt >= 10 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

async function startFakeServerOnce(behaviour: Behaviour): Promise<FakeServer> {
  const seen = { udp: 0, tcp: 0 };
  const udp: Socket = createSocket('udp4');
  const full = (q: packet.DecodedPacket, ip: string, ttl = 60): Buffer =>
    packet.encode({
      id: q.id,
      type: 'response',
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: (q.questions ?? []).flatMap((x): packet.Answer[] => {
        if (x.type === 'A') return [{ name: x.name, type: 'A' as const, class: 'IN' as const, ttl, data: ip }];
        const six = typeof behaviour === 'object' ? behaviour.aaaa : undefined;
        if (x.type === 'AAAA' && six) return [{ name: x.name, type: 'AAAA' as const, class: 'IN' as const, ttl, data: six }];
        return [];
      }),
    });
  const answerFor = (q: packet.DecodedPacket, overTcp: boolean): Buffer | undefined => {
    if (behaviour === 'silent') return undefined;
    if (behaviour === 'servfail') return packet.encode({ id: q.id, type: 'response', flags: 2 | packet.RECURSION_AVAILABLE, questions: q.questions });
    if (behaviour === 'truncate') {
      if (!overTcp) return packet.encode({ id: q.id, type: 'response', flags: packet.TRUNCATED_RESPONSE | packet.RECURSION_AVAILABLE, questions: q.questions });
      return full(q, '10.9.9.9');
    }
    return full(q, behaviour.answer, behaviour.ttl);
  };
  udp.on('message', (msg, rinfo) => {
    seen.udp++;
    let q: packet.DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const out = answerFor(q, false);
    const late = typeof behaviour === 'object' && q.questions?.[0]?.type === 'AAAA' ? (behaviour.aaaaDelayMs ?? 0) : 0;
    if (out && late > 0) setTimeout(() => udp.send(out, rinfo.port, rinfo.address), late).unref();
    else if (out) udp.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const port = udp.address().port;
  const tcp = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('error', () => c.destroy());
    c.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        seen.tcp++;
        let q: packet.DecodedPacket;
        try {
          q = packet.decode(msg);
        } catch {
          c.destroy();
          return;
        }
        const out = answerFor(q, true);
        if (out) {
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          c.write(Buffer.concat([head, out]));
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', (err) => {
      udp.close();
      reject(err);
    });
    tcp.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    seen,
    close: async () => {
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}
