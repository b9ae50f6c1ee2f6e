import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { duplexPair } from '../../../common/duplex-pair.js';
import { hasCode } from '../../../core/errors.js';
import { encodeSocksAddress } from '../../common/socks-address.js';
import { AeadDecoder, AeadEncoder } from './aead-framing.js';
import { CipherDuplex } from './cipher-duplex.js';
import { evpBytesToKey } from './kdf.js';
import { findMethod, type MethodSpec } from './methods.js';

const spec = findMethod('aes-128-gcm') as MethodSpec;
const key = evpBytesToKey('pw', 16);
const dest = { host: '10.0.0.1', port: 80 };

/** A client CipherDuplex over one end of a pair; the other end records raw writes. */
function setup(holdMs = 0) {
  const [a, b] = duplexPair();
  const writes: Buffer[] = [];
  b.on('data', (c: Buffer) => writes.push(c));
  const c = new CipherDuplex(a, new AeadEncoder(spec, key, encodeSocksAddress(dest)), new AeadDecoder(spec, key), { holdMs, label: 'proxy "t"' });
  return { a, b, c, writes };
}

test('the header waits for the first payload and leaves with it in one write', async () => {
  const { c, writes } = setup();
  c.cork();
  c.write('GET / HTTP/1.1\r\n');
  c.write('Host: x\r\n\r\n');
  c.uncork();
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1);
  // salt + one chunk (length chunk + address + both writes + tag)
  assert.equal(writes[0].length, 16 + 18 + encodeSocksAddress(dest).length + 27 + 16);
  c.destroy();
});

test('a held header goes out alone after holdMs (server-first protocols)', async () => {
  const { c, writes } = setup(20);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(writes.length, 1);
  assert.equal(writes[0].length, 16 + 18 + encodeSocksAddress(dest).length + 16);
  c.destroy();
});

test('end() flushes the header, then ends the stream below (half-close)', async () => {
  const { b, c, writes } = setup();
  const ended = once(b, 'end');
  c.end();
  await ended;
  assert.equal(writes.length, 1);
  // the reverse direction still works: the peer answers after our FIN
  const reply = new AeadEncoder(spec, key);
  const out: Buffer[] = [];
  reply.encode([Buffer.from('late answer')], out);
  const got = once(c, 'data');
  b.end(Buffer.concat(out));
  assert.equal(((await got)[0] as Buffer).toString(), 'late answer');
});

test('garbage from the server destroys the stream with a PROTOCOL error naming the proxy', async () => {
  const { a, b, c } = setup();
  const err = once(c, 'error');
  b.write(randomBytes(64));
  const [e] = await err;
  assert.ok(hasCode(e, 'PROTOCOL'));
  assert.match((e as Error).message, /proxy "t"/);
  assert.equal(a.destroyed, true);
});

test('a stream cut inside a chunk is an error, not a clean end', async () => {
  const { b, c } = setup();
  const out: Buffer[] = [];
  new AeadEncoder(spec, key).encode([Buffer.from('partial')], out);
  const wire = Buffer.concat(out);
  const err = once(c, 'error');
  c.resume();
  b.end(wire.subarray(0, wire.length - 3));
  assert.match(((await err)[0] as Error).message, /inside a chunk/);
});

test('destroying either side destroys the other', async () => {
  const s1 = setup();
  s1.c.destroy();
  assert.equal(s1.a.destroyed, true);
  const s2 = setup();
  s2.c.on('error', () => undefined);
  const closed = new Promise((r) => s2.c.once('close', r));
  s2.a.destroy();
  await closed;
  assert.equal(s2.c.destroyed, true);
});

test('backpressure: a slow stream below holds the writer', async () => {
  let release!: () => void;
  const inner = new Duplex({
    read() {},
    write(_c, _e, cb) {
      release = () => cb();
    },
    highWaterMark: 1024,
  });
  const c = new CipherDuplex(inner, new AeadEncoder(spec, key, encodeSocksAddress(dest)), new AeadDecoder(spec, key));
  c.write(randomBytes(200_000));
  await new Promise((r) => setImmediate(r));
  assert.equal(c.write(Buffer.alloc(70_000)), false, 'the writer sees backpressure');
  release();
  c.destroy();
});
