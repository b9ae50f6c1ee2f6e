import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { duplexPair } from '../../common/duplex-pair.js';
import { ProxyError } from '../../core/errors.js';
import { HeaderStream } from './header-stream.js';

const header = Buffer.from('HDR');

/** A VLESS-shaped response header: version 0, addons length, addons. */
function parseVlessResponse(buf: Buffer): number | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== 0) throw new ProxyError('PROTOCOL', `unexpected response version ${buf[0]}`);
  if (buf.length < 2) return undefined;
  return buf.length < 2 + buf[1] ? undefined : 2 + buf[1];
}

/** The next chunk the server end reads. */
const nextChunk = async (s: Duplex): Promise<Buffer> => (await once(s, 'data'))[0] as Buffer;

test('the header leaves in the same write as the first bytes', async () => {
  const [client, server] = duplexPair();
  const h = new HeaderStream(client, { header, label: 'T', flushDelayMs: 10_000 });
  h.write('first');
  assert.equal((await nextChunk(server)).toString(), 'HDRfirst');
  h.write('second');
  assert.equal((await nextChunk(server)).toString(), 'second');
  h.destroy();
});

test('no client bytes: the header goes alone after the delay; end() sends it too', async () => {
  const [c1, s1] = duplexPair();
  const h1 = new HeaderStream(c1, { header, label: 'T', flushDelayMs: 20 });
  assert.equal((await nextChunk(s1)).toString(), 'HDR');
  h1.destroy();
  const [c2, s2] = duplexPair();
  const h2 = new HeaderStream(c2, { header, label: 'T', flushDelayMs: 10_000 });
  const ended = once(s2, 'end');
  const data = nextChunk(s2);
  h2.end();
  assert.equal((await data).toString(), 'HDR');
  await ended;
  h2.destroy();
});

test('the response header is stripped, split anywhere, arriving with the first data', async () => {
  const wire = Buffer.from([0, 2, 9, 9, ...Buffer.from('hello')]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const [client, server] = duplexPair();
    const h = new HeaderStream(client, { header, response: parseVlessResponse, label: 'VLESS', flushDelayMs: 10_000 });
    const parts: Buffer[] = [];
    h.on('data', (b: Buffer) => parts.push(b));
    const ended = once(h, 'end');
    server.write(wire.subarray(0, cut));
    server.end(wire.subarray(cut));
    await ended;
    assert.equal(Buffer.concat(parts).toString(), 'hello', `cut at ${cut}`);
    h.destroy();
  }
});

test('a bad response version destroys the stream with a PROTOCOL error; a truncated one too', async () => {
  for (const bytes of [[5, 0, 1], [0, 4, 1]]) {
    const [client, server] = duplexPair();
    const h = new HeaderStream(client, { header, response: parseVlessResponse, label: 'VLESS' });
    h.resume();
    const err = once(h, 'error');
    server.end(Buffer.from(bytes));
    const [e] = await err;
    assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL');
    assert.ok(server.destroyed);
  }
});

test('the server ends without a byte: our side ends too (no half-open stream is left)', async () => {
  const [client, server] = duplexPair();
  const h = new HeaderStream(client, { header, response: parseVlessResponse, label: 'VLESS', flushDelayMs: 10_000 });
  h.resume();
  h.write('ping');
  server.resume();
  const serverEnded = once(server, 'end');
  server.end();
  await once(h, 'end');
  await serverEnded;
  h.destroy();
});

test('half-close both ways once data flowed; destroy reaches the other side', async () => {
  const [client, server] = duplexPair();
  const h = new HeaderStream(client, { header, label: 'T', flushDelayMs: 10_000 });
  server.write('data');
  assert.equal((await once(h, 'data'))[0].toString(), 'data');
  server.end();
  await once(h, 'end');
  // still writable after the server's end
  const got: Buffer[] = [];
  server.on('data', (b: Buffer) => got.push(b));
  h.end('late');
  await once(server, 'end');
  assert.equal(Buffer.concat(got).toString(), 'HDRlate');
  const [c2, s2] = duplexPair();
  const h2 = new HeaderStream(c2, { header, label: 'T' });
  h2.on('error', () => {});
  s2.destroy();
  await once(h2, 'close');
  const [c3, s3] = duplexPair();
  const h3 = new HeaderStream(c3, { header, label: 'T' });
  h3.destroy();
  await once(s3, 'close');
});
