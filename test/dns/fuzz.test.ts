/**
 * The DNS listener under random and mutated input: 100,000 datagrams (10,000 when CI is set;
 * DNS_FUZZ=n to choose) of random bytes, bit-flipped / truncated / extended real queries,
 * header-count lies, compression loops and responses, plus random TCP frames. No crash,
 * descriptors and memory flat, and a normal query is still answered (by dig) afterwards. A
 * flood from one client is bounded by its token bucket while another client is still served.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as packet from 'dns-packet';
import { createLogger } from '../../src/common/log.js';
import { loadConfig } from '../../src/config/load.js';
import { buildDns, type DnsRuntime } from '../../src/dns/runtime.js';
import { DnsServer } from '../../src/dns/server.js';
import { createRegistry } from '../../src/protocol/index.js';
import { dig } from './dig.js';
import { startDnsmasq, type Dnsmasq } from './peers.js';
import { rng } from '../support/rng.js';

const COUNT = Number(process.env.DNS_FUZZ ?? (process.env.CI ? 10_000 : 100_000));

const fds = () => readdirSync('/proc/self/fd').length;

let dnsmasq: Dnsmasq;
let rt: DnsRuntime;

before(async () => {
  dnsmasq = await startDnsmasq({ 'web.test': '127.0.0.1' });
  const c = loadConfig(['dns:', '  enable: true', '  enhanced-mode: fake-ip', '  fake-ip-filter: ["+.web.test"]', `  nameserver: [127.0.0.1:${dnsmasq.port}]`].join('\n'), {
    registry: createRegistry(),
  }).config.dns;
  rt = buildDns(c, { log: createLogger('silent'), outbound: () => undefined }).runtime!;
});

after(async () => {
  await rt?.close();
  await dnsmasq?.stop();
});

function mutations(seed: number): (i: number) => Buffer {
  const r = rng(seed);
  const base = packet.encode({ id: 1, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: 'web.test', type: 'A', class: 'IN' }] });
  const names = ['a.b', 'x'.repeat(63), 'web.test', ''];
  const byte = () => (r() * 256) | 0;
  return (i) => {
    switch (i % 8) {
      case 0: {
        const b = Buffer.alloc((r() * 600) | 0);
        for (let k = 0; k < b.length; k++) b[k] = byte();
        return b;
      }
      case 1: {
        const b = Buffer.from(base);
        for (let k = 0; k < 1 + r() * 4; k++) b[(r() * b.length) | 0] ^= 1 << ((r() * 8) | 0);
        return b;
      }
      case 2:
        return base.subarray(0, (r() * base.length) | 0);
      case 3: {
        const tail = Buffer.alloc((r() * 200) | 0, byte());
        return Buffer.concat([base, tail]);
      }
      case 4: {
        // header counts that lie
        const b = Buffer.from(base);
        b.writeUInt16BE((r() * 65536) | 0, 4 + 2 * ((r() * 4) | 0));
        return b;
      }
      case 5: {
        // a compression pointer pointing at itself
        const b = Buffer.from(base.subarray(0, 12));
        b.writeUInt16BE(1, 4);
        return Buffer.concat([b, Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
      }
      case 6: {
        // a response (QR set): never answered
        const b = Buffer.from(base);
        b[2] |= 0x80;
        return b;
      }
      default: {
        const types = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'PTR', 'ANY', 'CNAME'] as const;
        return packet.encode({ id: byte(), type: 'query', questions: [{ name: `${names[(r() * names.length) | 0]}${i % 3 === 0 ? '' : `.n${i}`}`, type: types[(r() * types.length) | 0] as packet.RecordType, class: 'IN' }] });
      }
    }
  };
}

describe('DNS listener fuzz', () => {
  test(`${COUNT} random and mutated UDP datagrams, random TCP frames: no crash, flat fds and memory, still answering`, { timeout: 300_000 }, async () => {
    const server = new DnsServer(() => rt, createLogger('silent'), { perClientQps: 1e9, maxInflight: 4096 });
    await server.apply({ dns: { enable: true, listen: '127.0.0.1:0' } });
    const port = server.address().udp!.port;
    try {
      // warm up so the baseline includes the sockets a first answer opens
      assert.deepEqual((await dig(port, 'web.test')).answers, ['127.0.0.1']);
      const fd0 = fds();
      const rss0 = process.memoryUsage().rss;
      const client = createSocket('udp4');
      let replies = 0;
      client.on('message', () => replies++);
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const gen = mutations(0xc0ffee);
      for (let i = 0; i < COUNT; ) {
        for (let k = 0; k < 100 && i < COUNT; k++, i++) client.send(gen(i), port, '127.0.0.1');
        // pace on what the listener received, so the kernel's socket buffer does not drop most (bounded wait)
        for (let w = 0; w < 200 && server.stats.received < i - 100; w++) await new Promise((r) => setImmediate(r));
        while (server.stats.inflight > 2000) await new Promise((r) => setTimeout(r, 5));
      }
      // random TCP frames on 200 connections (each closed by the server or by us)
      const tcpGen = mutations(0xbeef);
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          new Promise<void>((resolve) => {
            const c = net.connect(port, '127.0.0.1');
            c.on('error', () => undefined);
            c.on('data', () => undefined);
            c.on('close', () => resolve());
            c.on('connect', () => {
              const body = tcpGen(i);
              const len = Buffer.alloc(2);
              len.writeUInt16BE(i % 5 === 0 ? 65535 : body.length);
              c.write(Buffer.concat([len, body]));
              setTimeout(() => c.destroy(), 200);
            });
          }),
        ),
      );
      while (server.stats.inflight > 0) await new Promise((r) => setTimeout(r, 20));
      client.close();
      assert.ok(server.stats.received > COUNT * 0.8, `the listener saw most datagrams (${JSON.stringify(server.stats)})`);
      assert.ok(server.stats.formErr > COUNT / 10, 'undecodable ones were counted as FORMERR');
      assert.ok(replies > 0);
      // normal queries still answered, over UDP and TCP
      assert.deepEqual((await dig(port, 'web.test')).answers, ['127.0.0.1']);
      assert.deepEqual((await dig(port, 'web.test', 'A', ['+tcp'])).answers, ['127.0.0.1']);
      const grew = fds() - fd0;
      assert.ok(grew <= 5, `descriptors flat (grew by ${grew})`);
      const rssGrowth = (process.memoryUsage().rss - rss0) / 2 ** 20;
      assert.ok(rssGrowth < 150, `memory flat (rss grew ${rssGrowth.toFixed(1)} MiB)`);
      assert.ok(rt.fakeIp!.v4.size <= rt.fakeIp!.v4.capacity);
    } finally {
      await server.close();
    }
  });

  test('a flood from one client is bounded by its token bucket; another client is still answered', { timeout: 60_000 }, async () => {
    const server = new DnsServer(() => rt, createLogger('silent'), { perClientQps: 200 });
    await server.apply({ dns: { enable: true, listen: '127.0.0.1:0' } });
    const port = server.address().udp!.port;
    try {
      const flood = createSocket('udp4');
      await new Promise<void>((r) => flood.bind(0, '127.0.0.2', () => r()));
      const q = packet.encode({ id: 7, type: 'query', questions: [{ name: 'web.test', type: 'A', class: 'IN' }] });
      for (let i = 0; i < 5000; ) {
        for (let k = 0; k < 100; k++, i++) flood.send(q, port, '127.0.0.1');
        for (let w = 0; w < 200 && server.stats.received < i - 100; w++) await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 100));
      flood.close();
      assert.ok(server.stats.dropped > 1000, `most of the flood dropped (${JSON.stringify(server.stats)})`);
      assert.deepEqual((await dig(port, 'web.test')).answers, ['127.0.0.1'], 'dig (from 127.0.0.1) is answered');
    } finally {
      await server.close();
    }
  });
});
