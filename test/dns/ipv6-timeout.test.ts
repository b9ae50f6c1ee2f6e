/**
 * dns.ipv6-timeout as mihomo: once A has answered, a dial to the name waits at most that long
 * for AAAA. A name whose A address refuses (nothing listens on 127.0.0.1) and whose AAAA (::1,
 * where the server is) comes 600 ms late: with ipv6-timeout 2000 the dial waits for AAAA and
 * connects over IPv6; with 100 it gives up on AAAA and fails over IPv4.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { freePort } from '../support/ports.js';
import { readN, socks5Connect } from '../support/socks-client.js';
import { startFakeServer, type FakeServer } from './peers.js';

let dns: FakeServer;
let server: net.Server;
let port: number;

before(async () => {
  dns = await startFakeServer({ answer: '127.0.0.1', aaaa: '::1', aaaaDelayMs: 600, ttl: 0 });
  server = net.createServer((c) => c.pipe(c));
  server.listen({ port: 0, host: '::1', ipv6Only: true });
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await dns?.close();
  await new Promise((r) => server?.close(r));
});

function yaml(mixed: number, timeout: number): string {
  return [`mixed-port: ${mixed}`, 'ipv6: true', 'dns:', '  enable: true', '  ipv6: true', `  ipv6-timeout: ${timeout}`, `  nameserver: [127.0.0.1:${dns.port}]`, 'rules: ["MATCH,DIRECT"]'].join('\n');
}

async function echoOnce(mixed: number): Promise<boolean> {
  let s: net.Socket;
  try {
    s = await socks5Connect(mixed, 'six.test', port);
  } catch {
    return false;
  }
  try {
    const data = randomBytes(1000);
    s.write(data);
    const back = await readN(s, data.length);
    return createHash('sha256').update(back).digest('hex') === createHash('sha256').update(data).digest('hex');
  } finally {
    s.destroy();
  }
}

test('ipv6-timeout 2000: the dial waits for the late AAAA and reaches the IPv6-only server', async () => {
  const mixed = await freePort();
  const host = await Host.start(yaml(mixed, 2000), { log: createLogger('silent') });
  try {
    const t0 = Date.now();
    assert.equal(await echoOnce(mixed), true);
    assert.ok(Date.now() - t0 >= 500, 'it waited for AAAA');
  } finally {
    await host.close(0);
  }
});

test('ipv6-timeout 100: AAAA is given up 100 ms after A; IPv4 alone is refused', async () => {
  const mixed = await freePort();
  const host = await Host.start(yaml(mixed, 100), { log: createLogger('silent') });
  try {
    const t0 = Date.now();
    assert.equal(await echoOnce(mixed), false);
    assert.ok(Date.now() - t0 < 550, `failed before the AAAA came (${Date.now() - t0} ms)`);
  } finally {
    await host.close(0);
  }
});
