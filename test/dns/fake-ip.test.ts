/**
 * fake-ip end to end: dig against our listener gets a pool address, curl --socks5 to that
 * address reaches the local server by name (the rule sees the domain: anything else is
 * REJECTed), fake-ip-filter in blacklist and whitelist modes, persistence across a restart
 * (profile.store-fake-ip), the flush; and redir-host remembering real answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { curl } from '../e2e/curl.js';
import { freePort } from '../support/ports.js';
import { httpServer, type Local } from '../support/servers.js';
import { dig } from './dig.js';
import { startDnsmasq, type Dnsmasq } from './peers.js';

let dnsmasq: Dnsmasq;
let web: Local;

before(async () => {
  dnsmasq = await startDnsmasq({ 'web.test': '127.0.0.1', 'real.test': '10.0.0.7', 'listed.test': '10.0.0.8' });
  web = await httpServer();
});

after(async () => {
  await dnsmasq?.stop();
  await web?.close();
});

interface Ports {
  mixed: number;
  dns: number;
}

async function ports(): Promise<Ports> {
  return { mixed: await freePort(), dns: await freePort() };
}

function yaml(p: Ports, extra: string[] = [], profile: string[] = []): string {
  return [
    `mixed-port: ${p.mixed}`,
    ...profile,
    'dns:',
    '  enable: true',
    `  listen: 127.0.0.1:${p.dns}`,
    '  enhanced-mode: fake-ip',
    '  fake-ip-range: 198.18.0.1/16',
    `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
    ...extra,
    'rules:',
    '  - DOMAIN,web.test,DIRECT',
    '  - MATCH,REJECT',
  ].join('\n');
}

const inRange = (ip: string | undefined) => ip !== undefined && /^198\.18\./.test(ip);

describe('fake-ip', () => {
  test('dig gets a pool address; curl --socks5 to it reaches the server by name; the rule saw the domain', async () => {
    const p = await ports();
    const lines: string[] = [];
    const log = createLogger('info');
    log.subscribe((e) => lines.push(e.message));
    const host = await Host.start(yaml(p), { log });
    try {
      const a = await dig(p.dns, 'web.test');
      assert.equal(a.answers.length, 1);
      assert.ok(inRange(a.answers[0]), a.raw);
      const aaaa = await dig(p.dns, 'web.test', 'AAAA');
      assert.equal(aaaa.status, 'NOERROR');
      assert.deepEqual(aaaa.answers, [], 'no fake-ip-range6: AAAA is empty');
      const r = await curl(['--socks5', `127.0.0.1:${p.mixed}`, `http://${a.answers[0]}:${web.port}/data/1000`]);
      assert.equal(r.status, 200, r.stderr);
      assert.equal(r.length, 1000);
      assert.ok(lines.some((l) => l.includes(`web.test:${web.port} match Domain(web.test) using DIRECT`)), lines.join('\n'));
      // a fake address with no mapping any more (flushed): the rule sees only an IP and MATCH rejects it
      await host.control.flushFakeIpCache!();
      const gone = await curl(['--socks5', `127.0.0.1:${p.mixed}`, `http://${a.answers[0]}:${web.port}/data/10`], 5);
      assert.notEqual(gone.status, 200);
      const again = await dig(p.dns, 'other.test');
      assert.equal(again.answers[0], '198.18.0.2', 'after a flush the pool starts over');
    } finally {
      await host.close(0);
    }
  });

  test('fake-ip-filter: blacklist mode answers listed names for real; whitelist mode fakes only listed names', async () => {
    const p = await ports();
    let host = await Host.start(yaml(p, ['  fake-ip-filter: ["+.real.test"]']), { log: createLogger('silent') });
    try {
      assert.deepEqual((await dig(p.dns, 'real.test')).answers, ['10.0.0.7']);
      assert.ok(inRange((await dig(p.dns, 'listed.test')).answers[0]));
    } finally {
      await host.close(0);
    }
    host = await Host.start(yaml(p, ['  fake-ip-filter: [listed.test]', '  fake-ip-filter-mode: whitelist']), { log: createLogger('silent') });
    try {
      assert.ok(inRange((await dig(p.dns, 'listed.test')).answers[0]));
      assert.deepEqual((await dig(p.dns, 'real.test')).answers, ['10.0.0.7']);
    } finally {
      await host.close(0);
    }
  });

  test('profile.store-fake-ip: the mapping survives a restart (a connection to the old address works without a new query)', async () => {
    const p = await ports();
    const home = mkdtempSync(join(tmpdir(), 'clash-ts-fakeip-home-'));
    const text = yaml(p, [], ['profile:', '  store-fake-ip: true']);
    let host = await Host.start(text, { log: createLogger('silent'), homeDir: home });
    const first = (await dig(p.dns, 'web.test')).answers[0];
    await dig(p.dns, 'x1.test');
    await host.close(0);
    host = await Host.start(text, { log: createLogger('silent'), homeDir: home });
    try {
      const r = await curl(['--socks5', `127.0.0.1:${p.mixed}`, `http://${first}:${web.port}/data/10`]);
      assert.equal(r.status, 200, r.stderr);
      assert.equal((await dig(p.dns, 'web.test')).answers[0], first);
    } finally {
      await host.close(0);
    }
  });

  test('a reload with the same range keeps the mapping', async () => {
    const p = await ports();
    const host = await Host.start(yaml(p), { log: createLogger('silent') });
    try {
      const ip = (await dig(p.dns, 'web.test')).answers[0];
      await host.reload(yaml(p, ['  fake-ip-ttl: 5']));
      const after = await dig(p.dns, 'web.test');
      assert.equal(after.answers[0], ip);
      assert.match(after.raw, /web\.test\.\s+5\s+IN\s+A/);
    } finally {
      await host.close(0);
    }
  });

  test('redir-host: the listener answers for real and remembers, so a connection to that address is routed by name', async () => {
    const p = await ports();
    const lines: string[] = [];
    const log = createLogger('info');
    log.subscribe((e) => lines.push(e.message));
    const host = await Host.start(yaml(p).replace('enhanced-mode: fake-ip', 'enhanced-mode: redir-host'), { log });
    try {
      assert.deepEqual((await dig(p.dns, 'web.test')).answers, ['127.0.0.1']);
      const r = await curl(['--socks5', `127.0.0.1:${p.mixed}`, `http://127.0.0.1:${web.port}/data/10`]);
      assert.equal(r.status, 200, r.stderr);
      assert.ok(lines.some((l) => l.includes('match Domain(web.test) using DIRECT')), lines.join('\n'));
    } finally {
      await host.close(0);
    }
  });
});
