/**
 * fake-ip for UDP: dig against our listener gets a pool address for a name; a SOCKS5 UDP
 * datagram to that address reaches a real UDP echo server by the name (the rule sees the
 * domain: anything else is REJECTed), and the reply comes back from the fake IP the client
 * used, not the real address: directly, and through a real ss-server (which resolves the name
 * itself, through the same dnsmasq).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { udpEcho, type Local } from '../support/servers.js';
import { socks5UdpAssociate } from '../support/socks-client.js';
import { dig } from './dig.js';
import { startDnsmasq, type Dnsmasq } from './peers.js';

let dnsmasq: Dnsmasq;
let echo: Local;
let ss: Peer;
let ssPort: number;
const PASS = 'fake-ip-udp';

before(async () => {
  dnsmasq = await startDnsmasq({ 'echo.test': '127.0.0.1', 'other.test': '127.0.0.1' });
  echo = await udpEcho();
  ssPort = await freePort();
  ss = await startPeer({
    name: 'ss-server',
    command: 'ss-server',
    // -d: ss-server resolves the names it is sent through dnsmasq too
    args: ['-s', '127.0.0.1', '-p', String(ssPort), '-k', PASS, '-m', 'aes-256-gcm', '-u', '-t', '10', '-d', `127.0.0.1:${dnsmasq.port}`],
    readyPort: ssPort,
  });
});

after(async () => {
  await ss?.stop();
  await echo?.close();
  await dnsmasq?.stop();
});

function yaml(mixed: number, dns: number, target: string): string {
  return [
    `mixed-port: ${mixed}`,
    'proxies:',
    `  - { name: ss-proxy, type: ss, server: 127.0.0.1, port: ${ssPort}, cipher: aes-256-gcm, password: ${PASS}, udp: true }`,
    'dns:',
    '  enable: true',
    `  listen: 127.0.0.1:${dns}`,
    '  enhanced-mode: fake-ip',
    '  fake-ip-range: 198.18.0.1/16',
    `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
    'rules:',
    `  - DOMAIN-SUFFIX,test,${target}`,
    '  - MATCH,REJECT',
  ].join('\n');
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const target of ['DIRECT', 'ss-proxy']) {
  describe(`fake-ip UDP via ${target}`, () => {
    test('a datagram to the fake IP reaches the echo server by name; the reply comes from the fake IP', async () => {
      const mixed = await freePort();
      const dns = await freePort();
      const lines: string[] = [];
      const log = createLogger('info');
      log.subscribe((e) => lines.push(e.message));
      const host = await Host.start(yaml(mixed, dns, target), { log });
      const udp = await socks5UdpAssociate(mixed);
      try {
        const a = await dig(dns, 'echo.test');
        const b = await dig(dns, 'other.test');
        const fake = a.answers[0];
        const fake2 = b.answers[0];
        assert.match(fake ?? '', /^198\.18\./, a.raw);
        assert.match(fake2 ?? '', /^198\.18\./, b.raw);
        assert.notEqual(fake, fake2);
        for (let i = 0; i < 5; i++) {
          const data = randomBytes(200 + i * 300);
          udp.send(data, fake, echo.port);
          const r = await udp.receive(5000);
          assert.equal(sha(r.data), sha(data), `datagram ${i} echoed intact`);
          assert.equal(r.host, fake, 'the reply comes from the fake IP the client sent to');
          assert.equal(r.port, echo.port);
        }
        // the same session, a second name: its replies carry its own fake IP
        const data = randomBytes(300);
        udp.send(data, fake2, echo.port);
        const r2 = await udp.receive(5000);
        assert.equal(sha(r2.data), sha(data));
        assert.equal(r2.host, fake2);
        assert.ok(lines.some((l) => l.includes(`--> echo.test:${echo.port} match DomainSuffix(test) using ${target}`)), lines.join('\n'));
        // a real IP sent by the client is untouched: its reply comes from that IP
        if (target === 'DIRECT') {
          await host.reload(yaml(mixed, dns, target).replace('  - MATCH,REJECT', '  - MATCH,DIRECT'));
          const u2 = await socks5UdpAssociate(mixed);
          try {
            u2.send(data, '127.0.0.1', echo.port);
            const r3 = await u2.receive(5000);
            assert.equal(r3.host, '127.0.0.1');
            assert.equal(sha(r3.data), sha(data));
          } finally {
            u2.close();
          }
        }
      } finally {
        udp.close();
        await host.close(0);
      }
    });
  });
}

test('fake-ip UDP: a fake IP with no mapping is routed as the bare IP (MATCH REJECT): no reply', async () => {
  const mixed = await freePort();
  const dns = await freePort();
  const host = await Host.start(yaml(mixed, dns, 'DIRECT'), { log: createLogger('silent') });
  const udp = await socks5UdpAssociate(mixed);
  try {
    udp.send(Buffer.from('x'), '198.18.3.3', echo.port);
    await assert.rejects(udp.receive(800), /no UDP reply/);
  } finally {
    udp.close();
    await host.close(0);
  }
});
