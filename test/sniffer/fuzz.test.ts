import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { SNIFFER_DEFAULTS } from '../../src/config/sniffer.js';
import { SnifferDispatcher } from '../../src/sniffer/dispatcher.js';
import { HTTP_MAX_PEEK, sniffHttp } from '../../src/sniffer/http.js';
import { QuicClientHello, sniffQuic } from '../../src/sniffer/quic.js';
import type { SniffResult } from '../../src/sniffer/result.js';
import { sniffTls, TLS_MAX_PEEK } from '../../src/sniffer/tls.js';
import { captureClientHello, handshakeOf, reframe } from './hello.js';
import { cryptoFrame, sealInitial } from './quic-seal.js';
import { rng } from '../support/rng.js';

function mutate(b: Buffer, r: () => number): Buffer {
  const out = Buffer.from(b);
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * out.length);
    const kind = r();
    if (kind < 0.5) out[at] ^= 1 << Math.floor(r() * 8);
    else if (kind < 0.8) out[at] = Math.floor(r() * 256);
    else out.writeUInt16BE(r() < 0.5 ? 0xffff : 0, Math.min(at, out.length - 2));
  }
  return out;
}

function check(r: SniffResult, input: Buffer, max: number, what: string): void {
  assert.ok(r.kind === 'host' || r.kind === 'more' || r.kind === 'fail', what);
  if (r.kind === 'more') assert.ok(r.atLeast > input.length && r.atLeast <= max + 5, `${what}: asks for ${r.atLeast} of ${input.length}`);
  if (r.kind === 'host') assert.match(r.host, /^[a-z0-9_.*-]{1,253}$/i, what);
}

describe('sniffer fuzz: truncated, mutated, random and oversized input', () => {
  test('TLS: 20,000 cases, never throws, never asks for unbounded bytes', async () => {
    const hello = await captureClientHello('fuzz.tls.test');
    const seeds = [hello, reframe(hello, 60), reframe(hello, 1)];
    const r = rng(1);
    for (let i = 0; i < 20_000; i++) {
      const seed = seeds[i % seeds.length];
      let input: Buffer;
      const k = i % 4;
      if (k === 0) input = seed.subarray(0, Math.floor(r() * seed.length));
      else if (k === 1) input = mutate(seed, r);
      else if (k === 2) input = randomBytes(Math.floor(r() * 600));
      else input = Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), randomBytes(Math.floor(r() * 400))]);
      check(sniffTls(input), input, TLS_MAX_PEEK, `case ${i}`);
    }
    // oversized: a record claiming 65535 bytes, and 1,000 records of 1 byte of garbage
    check(sniffTls(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])), Buffer.alloc(5), TLS_MAX_PEEK, 'oversized record');
    const many = Buffer.concat(Array.from({ length: 40_000 }, () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x01])));
    const m = sniffTls(many);
    assert.equal(m.kind, 'fail');
  });

  test('HTTP: 20,000 cases, never throws, gives up at 8 KiB', () => {
    const req = Buffer.from('GET /p HTTP/1.1\r\nUser-Agent: fuzz\r\nHost: fuzz.http.test:8080\r\nAccept: */*\r\n\r\n');
    const r = rng(2);
    for (let i = 0; i < 20_000; i++) {
      const k = i % 3;
      const input = k === 0 ? req.subarray(0, Math.floor(r() * req.length)) : k === 1 ? mutate(req, r) : randomBytes(Math.floor(r() * 300));
      check(sniffHttp(input), input, HTTP_MAX_PEEK, `case ${i}`);
    }
    const huge = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), Buffer.alloc(1 << 20, 'x')]);
    assert.equal(sniffHttp(huge).kind, 'fail');
  });

  test('QUIC: 5,000 mutated / truncated / random datagrams, never throws', async () => {
    const hs = handshakeOf(await captureClientHello('fuzz.quic.test'));
    const good = sealInitial({ dcid: randomBytes(8), payload: cryptoFrame(0, hs), pad: true });
    const r = rng(3);
    let hosts = 0;
    for (let i = 0; i < 5_000; i++) {
      const k = i % 3;
      const input = k === 0 ? good.subarray(0, Math.floor(r() * good.length)) : k === 1 ? mutate(good, r) : randomBytes(Math.floor(r() * 1400));
      const res = sniffQuic(input);
      assert.ok(res.kind === 'fail' || res.kind === 'host' || res.kind === 'more', `case ${i}`);
      if (res.kind === 'host') {
        assert.equal(res.host, 'fuzz.quic.test', `case ${i}`);
        if (!input.equals(good)) hosts++; // (edits that cancel out give back the packet itself)
      }
    }
    // every byte of a padded Initial is authenticated (AAD or AEAD): a cut or changed one never opens
    assert.equal(hosts, 0);
    // an assembler fed crypto frames at huge offsets refuses them instead of allocating
    const far = sealInitial({ dcid: randomBytes(8), payload: cryptoFrame(2 ** 40, Buffer.alloc(10)), pad: true });
    assert.equal(new QuicClientHello().push(far).kind, 'fail');
  });

  test('the stream step: random bytes in random pieces always settle within the deadline, bytes intact', { timeout: 120_000 }, async () => {
    const log = createLogger('silent');
    const d = new SnifferDispatcher(
      { ...SNIFFER_DEFAULTS, enable: true, sniff: [{ type: 'TLS', ports: [], overrideDestination: true }, { type: 'HTTP', ports: [{ from: 443, to: 443 }], overrideDestination: true }] },
      { log, tcp: { firstByteMs: 200, totalMs: 300 } },
    );
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as net.AddressInfo).port;
    const r = rng(4);
    const hello = await captureClientHello('pieces.test');
    for (let i = 0; i < 40; i++) {
      const accepted = once(srv, 'connection');
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => {});
      const [server] = (await accepted) as [net.Socket];
      server.on('error', () => {});
      const data = i % 2 === 0 ? mutate(hello, r) : randomBytes(1 + Math.floor(r() * 3000));
      const p = d.sniffTcp(server, { id: String(i), network: 'tcp', inbound: { type: 'SOCKS5', name: 'x', port: 1 }, source: { host: '127.0.0.1', port: 1 }, destination: { host: `127.0.1.${i}`, port: 443 } }, undefined)!;
      let off = 0;
      while (off < data.length) {
        const n = 1 + Math.floor(r() * 700);
        client.write(data.subarray(off, off + n));
        off += n;
        await new Promise((res) => setTimeout(res, Math.floor(r() * 20)));
      }
      await p; // settles by the step's own deadline (the test's timeout catches a hang)
      const got: Buffer[] = [];
      let len = 0;
      await new Promise<void>((resolve) => {
        server.on('data', (c: Buffer) => {
          got.push(c);
          len += c.length;
          if (len >= data.length) resolve();
        });
      });
      assert.deepEqual(Buffer.concat(got), data, `case ${i}: the relay reads what the client sent`);
      client.destroy();
      server.destroy();
    }
    srv.close();
  });
});
