import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connectionJson } from '../../src/api/shapes.js';
import { createLogger } from '../../src/common/log.js';
import type { ConnectionView } from '../../src/core/control-plane.js';
import { start, type Host } from '../../src/index.js';
import { curl } from '../e2e/curl.js';
import { testCerts } from '../support/certs.js';
import { freePort } from '../support/ports.js';
import { udpEcho, type Local } from '../support/servers.js';
import { socks5UdpAssociate } from '../support/socks-client.js';
import { captureClientHello, handshakeOf } from './hello.js';
import { cryptoFrame, sealInitial } from './quic-seal.js';

const BODY = randomBytes(1 << 20);
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');

/** An HTTPS and an HTTP server on loopback that both serve BODY at /body. */
async function servers(): Promise<{ tls: number; plain: number; close(): Promise<void> }> {
  const c = testCerts();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-length': BODY.length });
    res.end(BODY);
  };
  const s1 = https.createServer({ cert: c.certPem, key: c.keyPem }, handler);
  const s2 = http.createServer(handler);
  s1.listen(0, '127.0.0.1');
  s2.listen(0, '127.0.0.1');
  await Promise.all([once(s1, 'listening'), once(s2, 'listening')]);
  return {
    tls: (s1.address() as net.AddressInfo).port,
    plain: (s2.address() as net.AddressInfo).port,
    async close() {
      s1.closeAllConnections();
      s2.closeAllConnections();
      await Promise.all([new Promise((r) => s1.close(r)), new Promise((r) => s2.close(r))]);
    },
  };
}

function yaml(socks: number, ports: { tls: number; plain: number; udp: number }, sniffer: string[], mixed = 0): string {
  return [
    `socks-port: ${socks}`,
    ...(mixed ? [`mixed-port: ${mixed}`] : []),
    'mode: rule',
    'log-level: silent',
    ...sniffer,
    'rules:',
    '  - DOMAIN,blocked.test,REJECT',
    '  - DOMAIN-SUFFIX,quic-blocked.test,REJECT',
    '  - MATCH,DIRECT',
    '',
  ].join('\n');
}

const snifferOn = (ports: { tls: number; plain: number; udp: number }, override: boolean) => [
  'sniffer:',
  '  enable: true',
  `  override-destination: ${override}`,
  '  sniff:',
  `    TLS: { ports: [${ports.tls}] }`,
  `    HTTP: { ports: ["${ports.plain}"] }`,
  `    QUIC: { ports: [${ports.udp}] }`,
];

/** curl through our SOCKS5 inbound, resolving `name` itself (--socks5, not socks5h): the proxy sees only the IP. */
function viaSocks(socks: number, url: string, name: string, port: number) {
  return curl(['--socks5', `127.0.0.1:${socks}`, '--resolve', `${name}:${port}:127.0.0.1`, '-k', url], 15);
}

describe('the sniffer end to end: curl over SOCKS5 with IP destinations', () => {
  let srv: Awaited<ReturnType<typeof servers>>;
  let echo: Local;
  let ports: { tls: number; plain: number; udp: number };
  const hosts: Host[] = [];
  const opened: ConnectionView[] = [];
  let sniffing = 0; // override-destination: false
  let overriding = 0; // override-destination: true
  let plainCore = 0; // no sniffer
  let mixed = 0; // the sniffing core's mixed port (HTTP CONNECT)

  before(async () => {
    srv = await servers();
    echo = await udpEcho();
    ports = { tls: srv.tls, plain: srv.plain, udp: echo.port };
    const log = createLogger('silent');
    sniffing = await freePort();
    overriding = await freePort();
    plainCore = await freePort();
    mixed = await freePort();
    const a = await start(yaml(sniffing, ports, snifferOn(ports, false), mixed), { log });
    const b = await start(yaml(overriding, ports, snifferOn(ports, true)), { log });
    const c = await start(yaml(plainCore, ports, []), { log });
    hosts.push(a, b, c);
    a.events.on('connection-opened', (v) => void opened.push(v));
    b.events.on('connection-opened', (v) => void opened.push(v));
  });

  after(async () => {
    for (const h of hosts) await h.close();
    await srv.close();
    await echo.close();
  });

  test('TLS: the SNI routes by a DOMAIN rule (REJECT vs DIRECT), the body arrives whole', async () => {
    const ok = await viaSocks(sniffing, `https://allowed.test:${ports.tls}/body`, 'allowed.test', ports.tls);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.status, 200);
    assert.equal(ok.sha256, BODY_SHA);
    const blocked = await viaSocks(sniffing, `https://blocked.test:${ports.tls}/body`, 'blocked.test', ports.tls);
    assert.notEqual(blocked.code, 0, 'the sniffed blocked.test is rejected');
    assert.equal(blocked.length, 0);
    // without a sniffer the same request goes to the IP and MATCH,DIRECT: the difference is the sniffer's
    const unsniffed = await viaSocks(plainCore, `https://blocked.test:${ports.tls}/body`, 'blocked.test', ports.tls);
    assert.equal(unsniffed.code, 0, unsniffed.stderr);
    assert.equal(unsniffed.sha256, BODY_SHA);
  });

  test('HTTP CONNECT to an IP (the mixed port): the SNI routes the tunnel', async () => {
    const via = (name: string) =>
      curl(['-x', `http://127.0.0.1:${mixed}`, '--connect-to', `${name}:${ports.tls}:127.0.0.1:${ports.tls}`, '-k', `https://${name}:${ports.tls}/body`], 15);
    const ok = await via('allowed.test');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.sha256, BODY_SHA);
    const blocked = await via('blocked.test');
    assert.notEqual(blocked.code, 0);
    assert.equal(blocked.length, 0);
  });

  test('HTTP: the Host header routes by a DOMAIN rule, the body arrives whole', async () => {
    const ok = await viaSocks(sniffing, `http://allowed.test:${ports.plain}/body`, 'allowed.test', ports.plain);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.sha256, BODY_SHA);
    const blocked = await viaSocks(sniffing, `http://blocked.test:${ports.plain}/body`, 'blocked.test', ports.plain);
    assert.notEqual(blocked.code, 0);
    assert.equal(blocked.length, 0);
    const unsniffed = await viaSocks(plainCore, `http://blocked.test:${ports.plain}/body`, 'blocked.test', ports.plain);
    assert.equal(unsniffed.sha256, BODY_SHA);
  });

  test('sniffHost shows in the connection metadata and /connections; with override the host is the domain', async () => {
    opened.length = 0;
    await viaSocks(sniffing, `https://allowed.test:${ports.tls}/body`, 'allowed.test', ports.tls);
    const v = opened.find((c) => c.sniffHost === 'allowed.test');
    assert.ok(v, JSON.stringify(opened));
    assert.deepEqual(v.destination, { host: '127.0.0.1', port: ports.tls });
    const j = connectionJson(v).metadata as Record<string, unknown>;
    assert.equal(j.sniffHost, 'allowed.test');
    assert.equal(j.host, '');
    assert.equal(j.destinationIP, '127.0.0.1');

    opened.length = 0;
    // override-destination: the dial goes to the sniffed name, so it must resolve: localhost
    const r = await curl(['--socks5', `127.0.0.1:${overriding}`, '--cacert', testCerts().caFile, `https://localhost:${ports.tls}/body`], 15);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.sha256, BODY_SHA);
    const o = opened.find((c) => c.sniffHost === 'localhost');
    assert.ok(o, JSON.stringify(opened));
    assert.deepEqual(o.destination, { host: 'localhost', port: ports.tls });
    const jo = connectionJson(o).metadata as Record<string, unknown>;
    assert.equal(jo.host, 'localhost');
    assert.equal(jo.sniffHost, 'localhost');
    assert.match(String(jo.destinationIP), /^(127\.0\.0\.1|::1)$/);
  });

  test('QUIC over SOCKS5 UDP: the Initial SNI routes the session (REJECT vs DIRECT); garbage routes by IP', async () => {
    const hsOk = handshakeOf(await captureClientHello('quic-allowed.test'));
    const hsNo = handshakeOf(await captureClientHello('www.quic-blocked.test'));
    const seal = (hs: Buffer) => sealInitial({ dcid: randomBytes(8), payload: cryptoFrame(0, hs), pad: true });
    {
      const u = await socks5UdpAssociate(sniffing);
      const dg = seal(hsOk);
      u.send(dg, '127.0.0.1', ports.udp);
      const back = await u.receive(5000);
      assert.deepEqual(back.data, dg, 'echoed: routed DIRECT');
      u.close();
    }
    {
      const u = await socks5UdpAssociate(sniffing);
      u.send(seal(hsNo), '127.0.0.1', ports.udp);
      await assert.rejects(u.receive(1500), /no UDP reply/, 'REJECTed by DOMAIN-SUFFIX on the sniffed name');
      u.close();
    }
    {
      const u = await socks5UdpAssociate(sniffing);
      const junk = randomBytes(1200);
      u.send(junk, '127.0.0.1', ports.udp);
      assert.deepEqual((await u.receive(5000)).data, junk, 'not QUIC: routed at once by MATCH');
      u.close();
    }
  });
});
