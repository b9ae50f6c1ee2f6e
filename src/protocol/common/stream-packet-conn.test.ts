import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { StreamPacketConn, type DatagramSink, type PacketFraming } from './stream-packet-conn.js';

const fallback = { host: '9.9.9.9', port: 53 };

/** A stream that records writes and never ends by itself. */
function stream(): Duplex & { writes: Buffer[] } {
  const writes: Buffer[] = [];
  const s = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      cb();
    },
  });
  return Object.assign(s, { writes });
}

/** Lines framing: "host port payload\n" both ways; "END\n" ends; "BAD\n" is garbage. */
class LineFraming implements PacketFraming {
  encode(data: Buffer, to: Address): Buffer | undefined {
    if (data.toString() === 'drop') return undefined;
    if (data.toString() === 'throw') throw new ProxyError('PROTOCOL', 'cannot frame');
    return Buffer.from(`${to.host} ${to.port} ${data.toString()}\n`);
  }
  decode(chunk: Buffer, sink: DatagramSink): boolean {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (line === 'END') return true;
      if (line === 'BAD') throw new ProxyError('PROTOCOL', 'bad frame');
      const [host, port, data] = line.split(' ');
      sink.datagram(Buffer.from(data ?? host), data === undefined ? undefined : { host, port: Number(port) });
    }
    return false;
  }
}

/** A conn with a close log: each entry is the error's message or 'clean'. */
function conn(s = stream()) {
  const c = new StreamPacketConn(s, new LineFraming(), fallback);
  const closes: string[] = [];
  c.onClose((err) => closes.push(err ? err.message : 'clean'));
  return { s, c, closes };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await tick();
};

test('close() then a stream error: told once, clean; the late error is swallowed', async () => {
  const { s, c, closes } = conn();
  c.close();
  assert.ok(s.destroyed);
  s.emit('error', new Error('late'));
  await settle();
  assert.deepEqual(closes, ['clean']);
});

test('the stream ends, then close(): told once, clean', async () => {
  const { s, c, closes } = conn();
  s.push(null);
  await once(s, 'end');
  c.close();
  await settle();
  assert.deepEqual(closes, ['clean']);
});

test('a stream error, then its end and close: told once, with the error', async () => {
  const { s, c, closes } = conn();
  s.emit('error', new Error('reset'));
  s.emit('end');
  s.emit('close');
  c.close();
  await settle();
  assert.deepEqual(closes, ['reset']);
});

test('destroy(err): error then close events, told once with the error', async () => {
  const { s, closes } = conn();
  s.destroy(new Error('boom'));
  await settle();
  assert.deepEqual(closes, ['boom']);
});

test('the stream closes without an error, then errors: told once, clean', async () => {
  const { s, closes } = conn();
  s.destroy();
  await settle();
  s.emit('error', new Error('after'));
  assert.deepEqual(closes, ['clean']);
});

test('a decode error closes with it; an in-band end closes clean; both only once', async () => {
  const a = conn();
  a.s.push('BAD\n');
  await settle();
  a.s.emit('error', new Error('then this'));
  a.c.close();
  assert.deepEqual(a.closes, ['bad frame']);
  const b = conn();
  const got: string[] = [];
  b.c.onMessage((d) => got.push(d.toString()));
  b.s.push('x\nEND\n');
  await settle();
  b.s.push('1.1.1.1 1 after\n');
  await settle();
  assert.deepEqual(got, ['x']);
  assert.deepEqual(b.closes, ['clean']);
});

test('a listener set after the close is told once, asynchronously', async () => {
  const s = stream();
  const c = new StreamPacketConn(s, new LineFraming(), fallback);
  c.close();
  c.close();
  const closes: string[] = [];
  c.onClose((err) => closes.push(err ? err.message : 'clean'));
  assert.deepEqual(closes, []);
  await settle();
  assert.deepEqual(closes, ['clean']);
  s.emit('error', new Error('late'));
  await settle();
  assert.deepEqual(closes, ['clean']);
});

test('a stream already destroyed makes a closed conn', async () => {
  const s = stream();
  s.destroy();
  const { closes } = conn(s);
  await settle();
  assert.deepEqual(closes, ['clean']);
});

test('send: one framed write per datagram; undefined or a throw drops; nothing after close or past the queue bound', async () => {
  const { s, c } = conn();
  c.send(Buffer.from('hi'), { host: 'a.b', port: 7 });
  c.send(Buffer.from('drop'), fallback);
  c.send(Buffer.from('throw'), fallback);
  assert.deepEqual(s.writes.map(String), ['a.b 7 hi\n']);
  c.close();
  c.send(Buffer.from('late'), fallback);
  assert.equal(s.writes.length, 1);
  // a stalled stream: past the bound datagrams are dropped
  const stalled = new Duplex({ read() {}, write() {} });
  const d = new StreamPacketConn(stalled, new LineFraming(), fallback, 100);
  for (let i = 0; i < 50; i++) d.send(Buffer.alloc(10, 0x61), fallback);
  assert.ok(stalled.writableLength < 200, String(stalled.writableLength));
  d.close();
});

test('datagrams go to the one receiver with their source, or the fallback', async () => {
  const { s, c } = conn();
  const got: [string, Address][] = [];
  c.onMessage((d, from) => got.push([d.toString(), from]));
  s.push('1.2.3.4 5 one\nbare\n');
  await settle();
  assert.deepEqual(got, [['one', { host: '1.2.3.4', port: 5 }], ['bare', fallback]]);
  c.close();
});
