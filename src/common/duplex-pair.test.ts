import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { duplexPair } from './duplex-pair.js';

function collect(s: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('duplexPair', () => {
  it('carries data both ways, large transfers intact', async () => {
    const [a, b] = duplexPair();
    const data = randomBytes(5 * 1024 * 1024);
    const gotB = collect(b);
    const gotA = collect(a);
    for (let i = 0; i < data.length; i += 65536) a.write(data.subarray(i, i + 65536));
    a.end();
    b.end(Buffer.from('reply'));
    const [x, y] = await Promise.all([gotB, gotA]);
    assert.equal(createHash('sha256').update(x).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.equal(y.toString(), 'reply');
  });

  it('honours backpressure: writes report full until the reader drains', async () => {
    const [a, b] = duplexPair({ highWaterMark: 1024 });
    let ok = true;
    let writes = 0;
    while (ok && writes < 1000) {
      ok = a.write(Buffer.alloc(512));
      writes++;
    }
    assert.equal(ok, false, 'write() returned false');
    assert.ok(writes < 10, `bounded buffering (${writes} writes)`);
    const drained = new Promise((r) => a.once('drain', r));
    b.resume();
    await drained;
  });

  it('half-close: end() on one side is end on the other, which can still write back', async () => {
    const [a, b] = duplexPair();
    const gotA = collect(a);
    b.on('data', () => {});
    b.on('end', () => b.end('after-end'));
    a.end('bye');
    assert.equal((await gotA).toString(), 'after-end');
  });

  it('destroy propagates both ways, without an error on the peer', async () => {
    for (const which of [0, 1]) {
      const pair = duplexPair();
      const errors: Error[] = [];
      pair[1 - which].on('error', (e) => errors.push(e));
      const closed = new Promise((r) => pair[1 - which].once('close', r));
      pair[which].destroy(new Error('boom'));
      pair[which].on('error', () => {});
      await closed;
      assert.equal(pair[1 - which].destroyed, true);
      await tick();
      assert.deepEqual(errors, []);
    }
  });

  it('a write pending on backpressure does not hang after the reader is destroyed', async () => {
    const [a, b] = duplexPair({ highWaterMark: 16 });
    a.on('error', () => {});
    a.write(Buffer.alloc(64));
    a.write(Buffer.alloc(64));
    b.destroy();
    await new Promise((r) => a.once('close', r));
    assert.equal(a.destroyed, true);
  });
});
