import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { endBelow } from './end-below.js';

/** A stream below that takes each write 5 ms later, as a socket under backpressure does. */
function slowBelow(): { inner: Duplex; got: Buffer[] } {
  const got: Buffer[] = [];
  const inner = new Duplex({
    highWaterMark: 1,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      setTimeout(() => {
        got.push(chunk);
        cb();
      }, 5);
    },
  });
  return { inner, got };
}

test('endBelow calls back only once the stream below took every byte, the last ones included', async () => {
  const { inner, got } = slowBelow();
  for (let i = 0; i < 5; i++) inner.write(Buffer.alloc(1000, i));
  await new Promise<void>((resolve) =>
    endBelow(
      inner,
      () => {
        assert.equal(inner.writableFinished, true, 'called back before the stream below finished');
        resolve();
      },
      Buffer.from('last'),
    ),
  );
  assert.equal(Buffer.concat(got).length, 5000 + 4);
  assert.equal(got.at(-1)?.toString(), 'last');
});

test('endBelow calls back at once for a stream below already ended or destroyed', async () => {
  for (const prepare of [(d: Duplex) => d.end(), (d: Duplex) => d.destroy()]) {
    const { inner } = slowBelow();
    inner.on('error', () => {});
    prepare(inner);
    let called = false;
    endBelow(inner, () => (called = true));
    assert.equal(called, true);
  }
});
