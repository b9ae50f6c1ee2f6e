// Each fuzz finding, as the minimal input fast-check shrank it to, with the behaviour its fix set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import net from 'node:net';
import { ProxyError } from '../../src/core/errors.js';
import { FakeHandler, startTestInbound } from '../../src/inbound/fakes.test.js';
import { payloadMappings } from '../../src/provider/payload.js';

describe('fuzz findings', () => {
  it('share-links: a payload that is neither YAML nor links throws a typed error (was a plain Error)', () => {
    for (const text of ['', 'troj%//pw@h.example:443#t', 'rules: []\n']) {
      assert.throws(() => payloadMappings(text), (e: unknown) => e instanceof ProxyError && e.code === 'CONFIG');
    }
  });
});

/** Writes `text` on a new connection and reads until the listener closes it. */
function answer(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('error', () => {});
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.once('connect', () => s.write(text));
    s.once('close', () => resolve(got));
    setTimeout(() => s.destroy(), 5000).unref();
  });
}

describe('fuzz findings: mixed-inbound-stream', () => {
  it('an HTTP/0.9 request line (no version) gets HTTP/1.1 400 and is never tunnelled (was `HTTP/0.9 502`, after a dial)', async () => {
    const handler = new FakeHandler();
    handler.fail = new Error('no dial in this test');
    for (const type of ['http', 'mixed'] as const) {
      const inbound = await startTestInbound(handler, { type });
      try {
        const port = inbound.address().port;
        // the shrunk input: the space before the version deleted, an Upgrade request
        assert.match(await answer(port, 'GET http://1000HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'), /^HTTP\/1\.1 400 /);
        assert.match(await answer(port, 'CONNECT 127.0.0.1:9HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 400 /);
        assert.match(await answer(port, 'GET http://127.0.0.1:9/HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 400 /);
      } finally {
        await inbound.close();
      }
    }
    assert.equal(handler.tcp.length, 0, 'nothing reached the tunnel');
  });
});

describe('fuzz findings: dns-listener-query, dns-upstream-answer', () => {
  // a 63-byte label that is not UTF-8 (0x00 0xff …): the codec reads it as text with U+FFFD,
  // which encodes to more than 63 bytes, so the answer's question (or a CNAME) was malformed
  const badLabel = Buffer.concat([Buffer.from([63, 0, 255]), Buffer.alloc(61, 0x64)]);
  const question = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([1, 0x61]), badLabel, Buffer.from([0, 0, 1, 0, 1])]);

  it('a query whose name would not encode back gets FORMERR from its header (was an answer the client cannot decode)', async () => {
    const { answerRaw } = await import('../../src/dns/server.js');
    const { createLogger } = await import('../../src/common/log.js');
    const r = await answerRaw(question, undefined, createLogger('silent'));
    assert.equal(r.formErr, true);
    assert.equal(r.out?.length, 12);
    assert.equal(r.out!.readUInt16BE(2) & 0xf, 1, 'FORMERR');
  });

  it('an upstream answer carrying such a name is a bad message (WireError), so it never reaches a client', async () => {
    const { decode, WireError } = await import('../../src/dns/wire.js');
    const cname = Buffer.concat([
      Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
      Buffer.from([2, 0x75, 0x70, 0, 0, 1, 0, 1]),
      Buffer.from([2, 0x75, 0x70, 0, 0, 5, 0, 1, 0, 0, 0, 60, 0, badLabel.length + 1]),
      badLabel,
      Buffer.from([0]),
    ]);
    assert.throws(() => decode(cname), (e: unknown) => e instanceof WireError);
    assert.throws(() => decode(question), (e: unknown) => e instanceof WireError);
  });
});

describe('fuzz findings: dns-upstream-answer (long mode)', () => {
  it('a 50-byte reply whose names re-encode to 76,959 bytes is refused by encode (WireError: the listener answers SERVFAIL), never a >64 KiB message', async () => {
    const { decode, encode, WireError } = await import('../../src/dns/wire.js');
    const raw = Buffer.from([0, 0, 128, 128, 0, 1, 6, 3, 0, 1, 0, 0, 2, 0, 0, 0, 0, 101, 115, 116, 0, 0, 1, 0, 1, 2, 117, 112, 4, 116, 101, 115, 116, 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0]);
    let m;
    try {
      m = decode(raw);
    } catch (err) {
      assert.ok(err instanceof WireError); // refusing it at decode is fine too
      return;
    }
    assert.throws(() => encode(m), (e: unknown) => e instanceof WireError && /too long/.test((e as Error).message));
  });
});

describe('fuzz findings: dns-upstream-answer (long mode, 2)', () => {
  it('header counts the bytes cannot hold (15,104 additionals in 110 bytes) are a WireError (the codec made up records, re-encoded to 1 MB)', async () => {
    const { decode, WireError } = await import('../../src/dns/wire.js');
    const raw = Buffer.from([0, 0, 128, 128, 0, 1, 0, 2, 0, 0, 59, 0, 2, 117, 112, 4, 116, 101, 115, 116, 0, 0, 1, 0, 1, 2, 117, 112, 4, 116, 101, 115, 116, 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 13, 1, 120, 4, 114, 101, 97, 108, 4, 116, 101, 115, 116, 0, 2, 117, 112, 4, 116, 101, 115, 116, 0, 0, 28, 0, 1, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 44, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => decode(raw), (e: unknown) => e instanceof WireError && /header counts/.test((e as Error).message));
  });
});
