import net from 'node:net';
import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { addressArb, chunked, reads, wire, type Chunked } from '../bytes.js';
import type { ConnectionHandler, Inbound } from '../../../src/core/inbound.js';
import { encodeSocksAddress } from '../../../src/protocol/common/socks-address.js';
import { FakeHandler, quietLog, startTestInbound } from '../../../src/inbound/fakes.test.js';
import { startServerInbound, type ServerInboundType } from '../../../src/inbound/server/start.js';
import { ID, trojanHead, vlessHead, vmessSealed } from './v2ray.js';

/**
 * The mixed listener itself (the first-byte sniffer, SOCKS4/5, node:http with our CONNECT,
 * forward, Upgrade and auth paths) on loopback, fed whole client byte streams. The handler
 * refuses every connection (nothing is dialed: a fuzzed destination must never be reached).
 * A crash of the listener kills the process: the runner reports that as a finding.
 */
let inbound: Promise<Inbound> | undefined;

/** Refuses every TCP connection (FakeHandler with `fail`) and drops every datagram. */
function refusingHandler(): ConnectionHandler {
  const tcp = new FakeHandler();
  tcp.fail = new Error('the fuzzer dials nothing');
  return { handleTcp: (conn, meta, reply) => tcp.handleTcp(conn, meta, reply), handleUdp() {} };
}
function listener(): Promise<Inbound> {
  if (inbound === undefined) {
    inbound = startTestInbound(refusingHandler(), { users: [{ username: 'u', password: 'p:w' }], handshakeTimeoutMs: 2000 });
  }
  return inbound;
}

const basic = fc.constantFrom('', `Proxy-Authorization: Basic ${Buffer.from('u:p:w').toString('base64')}\r\n`, 'Proxy-Authorization: Basic !!!\r\n', 'Proxy-Authorization: Bearer x\r\n');
const target = addressArb.map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`));
const httpRequest = fc
  .tuple(fc.constantFrom('CONNECT', 'GET', 'POST', 'OPTIONS'), target, basic, fc.constantFrom('', 'Connection: Upgrade\r\nUpgrade: websocket\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'Connection: keep-alive\r\n'), fc.constantFrom('', 'hello', '0\r\n\r\n'))
  .map(([m, t, auth, extra, body]) => Buffer.from(`${m} ${m === 'CONNECT' ? t : `http://${t}/p?q`} HTTP/1.1\r\nHost: ${t}\r\n${auth}${extra}\r\n${body}`, 'latin1'));
const socks5 = fc
  .tuple(fc.boolean(), fc.integer({ min: 1, max: 3 }), addressArb)
  .map(([auth, cmd, a]) => Buffer.concat([Buffer.from(auth ? [5, 1, 2, 1, 1, 0x75, 3, 0x70, 0x3a, 0x77] : [5, 1, 0]), Buffer.from([5, cmd, 0]), encodeSocksAddress(a)]));
const socks4 = fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.boolean()).map(([port, a]) => {
  const h = Buffer.from([4, 1, port >> 8, port & 0xff, 0, 0, 0, a ? 1 : 0]);
  return Buffer.concat([h, Buffer.from('user\0'), a ? Buffer.from('example.com\0') : Buffer.alloc(0)]);
});

/** Sends the reads, half-closes, and waits for the listener to close (or stop talking). */
function session(port: number, input: Chunked): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    // a listener that keeps a half-closed client past its own 2 s deadline would show here
    const timer = setTimeout(() => done(), 2500);
    s.on('error', () => {});
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.once('close', done);
    s.once('connect', () => {
      for (const r of reads(input)) s.write(r);
      s.end();
    });
  });
}

export const inboundTargets: FuzzTarget<any>[] = [
  {
    name: 'mixed-inbound-stream',
    arbitrary: chunked(wire(fc.oneof(httpRequest, httpRequest.map((r) => Buffer.concat([r, r])), socks5, socks4))),
    async run(input: Chunked) {
      const i = await listener();
      const answer = await session(i.address().port, input);
      const b0 = input.bytes[0];
      // an HTTP client is only ever answered in HTTP
      if (answer.length > 0 && b0 !== 4 && b0 !== 5 && !answer.startsWith('HTTP/1.')) throw new Invariant(`a non-HTTP answer to HTTP: ${JSON.stringify(answer.slice(0, 40))}`);
    },
    weight: 0.1,
    async: true,
    async teardown() {
      const i = inbound;
      inbound = undefined;
      await (await i)?.close();
    },
  },
];

/** One of our server listeners (plain TCP) on loopback, fed whole client streams. */
function serverTarget(type: ServerInboundType, valid: fc.Arbitrary<Buffer>): FuzzTarget<Chunked> {
  let started: Promise<Inbound> | undefined;
  const get = (): Promise<Inbound> => {
    if (started === undefined) {
      started = startServerInbound({
        name: `fuzz-${type}`,
        type,
        listen: '127.0.0.1',
        port: 0,
        users: [{ name: 'u', secret: type === 'trojan' ? 'pw' : ID }],
        handler: refusingHandler(),
        log: quietLog,
        handshakeTimeoutMs: 2000,
      });
    }
    return started;
  };
  return {
    name: `${type}-listener-stream`,
    arbitrary: chunked(wire(valid)),
    async run(input: Chunked) {
      await session((await get()).address().port, input);
    },
    weight: 0.1,
    async: true,
    async teardown() {
      const i = started;
      started = undefined;
      await (await i)?.close();
    },
  };
}

inboundTargets.push(serverTarget('trojan', trojanHead), serverTarget('vless', vlessHead), serverTarget('vmess', vmessSealed));
