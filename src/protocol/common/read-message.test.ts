import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ProxyError } from '../../core/errors.js';
import { readMessage, type ParseStep } from './read-message.js';

/** Parses a message "<n>:" + n bytes. */
function lengthPrefixed(buf: Buffer): ParseStep<string> {
  const colon = buf.indexOf(0x3a);
  if (colon < 0) return undefined;
  const n = Number(buf.toString('latin1', 0, colon));
  if (!Number.isInteger(n)) throw new ProxyError('PROTOCOL', 'bad length');
  if (buf.length < colon + 1 + n) return undefined;
  return { value: buf.toString('latin1', colon + 1, colon + 1 + n), used: colon + 1 + n };
}

const never = new AbortController().signal;

test('a message split over chunks; the bytes after it stay on the stream, in order', async () => {
  const s = new PassThrough();
  const got = readMessage(s, lengthPrefixed, never, 'msg');
  s.write('5');
  s.write(':he');
  s.write('lloREST');
  s.write('MORE');
  assert.equal(await got, 'hello');
  s.end();
  const rest: Buffer[] = [];
  for await (const c of s) rest.push(c as Buffer);
  assert.equal(Buffer.concat(rest).toString(), 'RESTMORE');
});

test('two messages in one chunk are read one after the other', async () => {
  const s = new PassThrough();
  s.write('1:a2:bcTAIL');
  assert.equal(await readMessage(s, lengthPrefixed, never, 'first'), 'a');
  assert.equal(await readMessage(s, lengthPrefixed, never, 'second'), 'bc');
  // the stream flows again for a plain 'data' consumer, tail first
  const first = await new Promise<Buffer>((r) => s.once('data', r));
  assert.equal(first.toString(), 'TAIL');
});

test('the end of the stream before the message: PROTOCOL naming what was awaited', async () => {
  const s = new PassThrough();
  const got = readMessage(s, lengthPrefixed, never, 'the answer');
  s.end('3:a');
  await assert.rejects(got, (e: unknown) => e instanceof ProxyError && e.code === 'PROTOCOL' && /before the answer/.test(e.message));
});

test('parser errors, stream errors and aborts reject; listeners are removed', async () => {
  const s = new PassThrough();
  const p1 = readMessage(s, lengthPrefixed, never, 'm');
  s.write('x:');
  await assert.rejects(p1, /bad length/);
  const ctl = new AbortController();
  const p2 = readMessage(s, lengthPrefixed, ctl.signal, 'm');
  ctl.abort();
  await assert.rejects(p2, (e: unknown) => e instanceof ProxyError && e.code === 'ABORTED');
  assert.equal(s.listenerCount('readable') + s.listenerCount('end') + s.listenerCount('close'), 0);
  const p3 = readMessage(s, lengthPrefixed, never, 'm');
  s.destroy(new Error('boom'));
  await assert.rejects(p3, /boom/);
  await assert.rejects(readMessage(s, lengthPrefixed, never, 'm'), /closed by the server/);
});
