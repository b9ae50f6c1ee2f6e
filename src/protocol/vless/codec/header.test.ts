import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { decodePortAddress } from '../../common/port-address.js';
import { encodeVlessRequest, parseVlessResponse, VLESS_CMD } from './header.js';
import { uuidBytes } from './uuid.js';

const id = uuidBytes('b831381d-6324-4d53-ad4f-8cda48b30811');
const idHex = 'b831381d63244d53ad4f8cda48b30811';

test('TCP request to a domain, with the first bytes appended', () => {
  const got = encodeVlessRequest(id, VLESS_CMD.TCP, { host: 'example.com', port: 443 }, Buffer.from('hi'));
  assert.equal(got.toString('hex'), `00${idHex}00` + '01' + '01bb' + '02' + '0b' + Buffer.from('example.com').toString('hex') + '6869');
});

test('UDP request to IPv4 and IPv6; MUX has no address', () => {
  assert.equal(encodeVlessRequest(id, VLESS_CMD.UDP, { host: '1.2.3.4', port: 80 }).toString('hex'), `00${idHex}00` + '02' + '0050' + '01' + '01020304');
  assert.equal(
    encodeVlessRequest(id, VLESS_CMD.TCP, { host: '::1', port: 53 }).toString('hex'),
    `00${idHex}00` + '01' + '0035' + '03' + '00'.repeat(15) + '01',
  );
  assert.equal(encodeVlessRequest(id, VLESS_CMD.MUX, undefined).toString('hex'), `00${idHex}00` + '03');
  // IPv4-mapped IPv6 goes out as IPv4
  assert.equal(encodeVlessRequest(id, VLESS_CMD.TCP, { host: '::ffff:1.2.3.4', port: 1 }).subarray(21).toString('hex'), '0101020304');
});

test('an over-long domain is a PROTOCOL error, not a corrupt header', () => {
  assert.throws(() => encodeVlessRequest(id, VLESS_CMD.TCP, { host: 'a'.repeat(256), port: 1 }), ProxyError);
});

test('response: version 0, addons skipped; truncated input asks for more', () => {
  assert.equal(parseVlessResponse(Buffer.alloc(0)), undefined);
  assert.equal(parseVlessResponse(Buffer.from([0])), undefined);
  assert.equal(parseVlessResponse(Buffer.from([0, 0])), 2);
  assert.equal(parseVlessResponse(Buffer.from([0, 0, 0x41])), 2);
  assert.equal(parseVlessResponse(Buffer.from([0, 3, 1, 2])), undefined);
  assert.equal(parseVlessResponse(Buffer.from([0, 3, 1, 2, 3, 9])), 5);
  assert.throws(() => parseVlessResponse(Buffer.from([1, 0])), (e) => e instanceof ProxyError && e.code === 'PROTOCOL');
});

test('random input: a length within the buffer, undefined, or a PROTOCOL error', () => {
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(i % 40);
    try {
      const n = parseVlessResponse(b);
      if (n !== undefined) assert.ok(n >= 2 && n <= b.length);
    } catch (e) {
      assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL');
    }
    try {
      const a = decodePortAddress(b, 0);
      if (a) assert.ok(a.length <= b.length);
    } catch (e) {
      assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL');
    }
  }
});
