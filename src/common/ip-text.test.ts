import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipWords } from './cidr.js';
import { fastV6, readIp } from './ip-text.js';

/** ipWords with IPv4-mapped IPv6 (any spelling) as its IPv4 word: what readIp promises */
function expected(ip: string): number[] | undefined {
  const w = ipWords(ip);
  if (w === undefined) return undefined;
  if (w.length === 4 && w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return [w[3]];
  return [...w];
}

test('readIp: the words ipWords gives, mapped IPv6 as IPv4, for valid and invalid text', () => {
  const out = new Uint32Array(4);
  const cases = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '01.2.3.4', '1.2.3', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '1:::2', ':1::', '1:', ':1', '12345::', 'ABCD::ef', '::ffff:1.2.3.4', '::ffff:102:304', '::FFFF:1.2.3.4',
    'fe80::1%eth0', '2001:db8::', '2001:db8:0:0:0:0:0:1', '1:2:3:4:5:6::7:8', 'x', '', '1.2.3.4.5', 'g::1'];
  // and random strings over the characters of IPv6 text
  const alpha = ['0', '1', 'a', 'F', 'g', ':', '::', '.', 'ff', 'ffff', '12345', '%'];
  let seed = 7;
  const r = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < 20_000; k++) {
    let t = '';
    for (let j = 1 + Math.floor(r() * 12); j > 0; j--) t += alpha[Math.floor(r() * alpha.length)];
    cases.push(t);
  }
  let v6 = 0;
  for (const ip of cases) {
    const n = readIp(ip, out);
    const want = expected(ip);
    if (want === undefined) assert.equal(n, 0, ip);
    else assert.deepEqual([...out.subarray(0, n)], want, ip);
    if (fastV6(ip, out)) v6++;
  }
  assert.ok(v6 > 100, `the random cases reach the fast IPv6 path (${v6})`);
});
