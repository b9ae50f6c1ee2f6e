import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { duplexPair } from '../common/duplex-pair.js';
import { parseHead, readHead, requestHead } from './http-head.js';

test('requestHead writes the line, headers and the blank line; refuses line breaks', () => {
  assert.equal(requestHead('GET', '/x', [['Host', 'h'], ['A', 'b']]).toString(), 'GET /x HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n');
  assert.throws(() => requestHead('GET', '/', [['A', 'b\r\nInjected: 1']]), { code: 'CONFIG' });
});

test('parseHead: status, lower-case names, repeated headers joined', () => {
  const h = parseHead('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-A: 1\r\nx-a: 2');
  assert.equal(h.status, 101);
  assert.equal(h.headers.get('upgrade'), 'websocket');
  assert.equal(h.headers.get('x-a'), '1, 2');
  assert.ok(Number.isNaN(parseHead('garbage').status));
  assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nno colon'), { code: 'PROTOCOL' });
});

test('readHead returns the bytes after the head and consumes nothing more, in any split', async () => {
  const [a, b] = duplexPair();
  const p = readHead(b, AbortSignal.timeout(2000));
  for (const piece of ['HTTP/1.1 200 OK\r', '\nA: b\r\n', '\r', '\nrest', 'ignored?']) a.write(piece);
  const { head, rest } = await p;
  assert.equal(head.status, 200);
  assert.equal(rest.toString().startsWith('rest'), true);
  a.destroy();
});

test('readHead: truncated, oversized, aborted and random input end in a clear error', async () => {
  {
    const [a, b] = duplexPair();
    const p = readHead(b, AbortSignal.timeout(2000));
    a.end('HTTP/1.1 200');
    await assert.rejects(p, /closed during the HTTP handshake/);
  }
  {
    const [a, b] = duplexPair();
    const p = readHead(b, AbortSignal.timeout(2000), 1024);
    a.write(randomBytes(2000).toString('hex'));
    await assert.rejects(p, /longer than 1024/);
    assert.ok(b.destroyed);
  }
  {
    const [, b] = duplexPair();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50); // AbortSignal.timeout is unref'd: nothing would keep the loop alive
    await assert.rejects(readHead(b, ac.signal), { code: 'ABORTED' });
  }
  for (let i = 0; i < 200; i++) {
    const [a, b] = duplexPair();
    const p = readHead(b, AbortSignal.timeout(2000), 512);
    a.end(randomBytes(600));
    await p.then(
      () => undefined,
      (e: { code?: string }) => assert.ok(['PROTOCOL', 'DIAL_FAILED'].includes(e.code ?? ''), String(e)),
    );
  }
});
