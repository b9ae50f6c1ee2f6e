import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasCode } from '../core/errors.js';
import { MUX_OPTION_DATA, MUX_STATUS, muxControlFrame, muxDataLength, muxPrefixLength, writeMuxHead } from './mux-cool-frame.js';

test('the head: META_LEN SESSION STATUS OPTION, written at an offset', () => {
  const out = Buffer.alloc(10);
  assert.equal(writeMuxHead(out, 2, 0x1234, MUX_STATUS.KEEP, MUX_OPTION_DATA, 3), 8);
  assert.equal(out.subarray(2, 8).toString('hex'), '000712340201');
  assert.equal(muxControlFrame(7, MUX_STATUS.END).toString('hex'), '000400070300');
});

test('prefix length as far as the bytes tell; complete exactly when it fits', () => {
  const frame = Buffer.from('0006000002010a0b0003616263', 'hex'); // Keep, 2 extra meta bytes, data 'abc'
  const want = [2, 2, 8, 8, 8, 8, 8, 8, 10, 10, 10, 10, 10, 10];
  for (let n = 0; n <= frame.length; n++) {
    const p = muxPrefixLength(frame.subarray(0, n), 0);
    assert.equal(p, want[n], `${n} bytes`);
    assert.equal(p <= n, n >= 10, `${n} bytes`);
  }
  assert.equal(muxDataLength(frame, 0), 3);
  const noData = Buffer.from('000400000400', 'hex');
  assert.equal(muxPrefixLength(noData, 0), 6);
  assert.equal(muxDataLength(noData, 0), 0);
  // at an offset
  assert.equal(muxPrefixLength(Buffer.concat([Buffer.from([9, 9]), frame]), 2), 10);
});

test('metadata outside 4..512 bytes and unknown statuses are PROTOCOL errors', () => {
  for (const hex of ['0003', '0201', 'ffff', '000400000000', '000400000500', '0004000009']) {
    const b = Buffer.from(hex, 'hex');
    if (b.length < 6 && hex.startsWith('0004')) continue;
    assert.throws(() => muxPrefixLength(b, 0), (e: unknown) => hasCode(e, 'PROTOCOL'), hex);
  }
  assert.equal(muxPrefixLength(Buffer.from('0200', 'hex'), 0), 2 + 512);
});
