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
