import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUuid, uuidBytes } from './uuid.js';

test('a canonical UUID is its 16 bytes; hyphenless, braced and urn forms too', () => {
  const want = 'b831381d63244d53ad4f8cda48b30811';
  for (const t of ['b831381d-6324-4d53-ad4f-8cda48b30811', 'B831381D-6324-4D53-AD4F-8CDA48B30811', want, `{b831381d-6324-4d53-ad4f-8cda48b30811}`, 'urn:uuid:b831381d-6324-4d53-ad4f-8cda48b30811']) {
    assert.equal(uuidBytes(t).toString('hex'), want, t);
  }
});

test("any other string maps to a UUIDv5 in the nil namespace (Xray's documented example)", () => {
  assert.equal(formatUuid(uuidBytes('我爱🍉老师1314')), '5783a3e7-e373-51cd-8642-c83782b807c5');
  // misplaced hyphens are not a UUID: mapped, not misread
  assert.equal(uuidBytes('b831381d6-324-4d53-ad4f-8cda48b30811')[6] >> 4, 5);
});
