import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeTrojanRequest, trojanPasswordKey, TROJAN_CMD } from '../../protocol/trojan/codec/header.js';
import { encodeVlessRequest, VLESS_CMD } from '../../protocol/vless/codec/header.js';
import { uuidBytes } from '../../protocol/vless/codec/uuid.js';
import { encodeRequest, COMMAND, SECURITY, OPTION } from '../../protocol/vmess/codec/request.js';
import { sealAeadHeader } from '../../protocol/vmess/codec/header.js';
import { userIdBytes, userKeys } from '../../protocol/vmess/codec/user.js';
import type { RequestParser } from './read-request.js';
import { trojanRequestParser, trojanUsers } from './trojan.js';
import { vlessRequestParser, vlessUsers } from './vless.js';
import { MAX_CLOCK_SKEW_S, VmessUserTable } from './vmess.js';

const dest = { host: 'example.com', port: 443 };

/** Every strict prefix parses as "need more"; the whole parses with its exact length. */
function prefixes<T>(parse: RequestParser<T>, whole: Buffer, headLength: number): T {
  for (let n = 0; n < headLength; n++) assert.equal(parse(whole.subarray(0, n)), undefined, `prefix ${n}`);
  const r = parse(whole);
  assert.ok(r);
  assert.equal(r.length, headLength);
  return r.value;
}

/** Random input never crashes: need more, or a thrown error. */
function fuzz<T>(parse: RequestParser<T>): void {
  for (let i = 0; i < 500; i++) {
    try {
      parse(randomBytes(1 + (i % 300)));
    } catch (err) {
      assert.ok(err instanceof Error);
    }
  }
}

describe('VLESS request parser', () => {
  const id = randomUUID();
  const parse = vlessRequestParser(vlessUsers([{ name: 'alice', secret: id }]));
  it('reads user, command and destination; the payload is left', () => {
    const head = encodeVlessRequest(uuidBytes(id), VLESS_CMD.TCP, dest);
    const v = prefixes(parse, Buffer.concat([head, Buffer.from('payload')]), head.length);
    assert.deepEqual(v, { user: 'alice', command: VLESS_CMD.TCP, destination: dest });
  });
  it('refuses an unknown uuid as soon as it is in, and other versions / Mux', () => {
    const head = encodeVlessRequest(uuidBytes(randomUUID()), VLESS_CMD.TCP, dest);
    assert.throws(() => parse(head.subarray(0, 17)), /unknown VLESS user/);
    assert.throws(() => parse(Buffer.from([1])), /version/);
    assert.throws(() => parse(encodeVlessRequest(uuidBytes(id), VLESS_CMD.MUX, undefined)), /command 3/);
  });
  it('survives random input', () => fuzz(parse));
});

describe('Trojan request parser', () => {
  const parse = trojanRequestParser(trojanUsers([{ name: 'bob', secret: 'pw' }]));
  it('reads user, command and destination', () => {
    const head = encodeTrojanRequest(trojanPasswordKey('pw'), TROJAN_CMD.CONNECT, dest);
    const v = prefixes(parse, Buffer.concat([head, Buffer.from('GET /')]), head.length);
    assert.deepEqual(v, { user: 'bob', command: TROJAN_CMD.CONNECT, destination: dest });
  });
  it('refuses a wrong password, a missing CRLF and unknown commands', () => {
    assert.throws(() => parse(encodeTrojanRequest(trojanPasswordKey('other'), TROJAN_CMD.CONNECT, dest)), /unknown Trojan password/);
    const bad = Buffer.from(encodeTrojanRequest(trojanPasswordKey('pw'), TROJAN_CMD.CONNECT, dest));
    bad[56] = 0x20;
    assert.throws(() => parse(bad), /CRLF/);
    const cmd = Buffer.from(encodeTrojanRequest(trojanPasswordKey('pw'), TROJAN_CMD.CONNECT, dest));
    cmd[58] = 9;
    assert.throws(() => parse(cmd), /command 9/);
  });
  it('survives random input', () => fuzz(parse));
});

describe('VMess user table', () => {
  const id = randomUUID();
  const keys = userKeys(userIdBytes(id));
  const plain = (): Buffer =>
    encodeRequest({
      bodyIv: randomBytes(16),
      bodyKey: randomBytes(16),
      responseAuth: 7,
      option: OPTION.CHUNK_STREAM,
      security: SECURITY.AES_128_GCM,
      command: COMMAND.TCP,
      destination: dest,
    });
  const sealed = (at: number): Buffer => sealAeadHeader(keys, plain(), at);
  const now = Date.now();
  const table = (): VmessUserTable => new VmessUserTable([{ name: 'carol', secret: id }], () => now);

  it('opens a request of a known user; prefixes need more', () => {
    const s = sealed(now / 1000);
    const v = prefixes((b) => table().parse(b), s, s.length);
    assert.equal(v.user, 'carol');
    assert.deepEqual(v.header.destination, dest);
  });
  it('refuses a replayed auth ID', () => {
    const t = table();
    const s = sealed(now / 1000);
    assert.ok(t.parse(s));
    assert.throws(() => t.parse(s), /replayed/);
  });
  it(`refuses clocks more than ${MAX_CLOCK_SKEW_S} s apart, either way`, () => {
    assert.ok(table().parse(sealed(now / 1000 - MAX_CLOCK_SKEW_S + 5)));
    assert.throws(() => table().parse(sealed(now / 1000 - MAX_CLOCK_SKEW_S - 5)), /clock skew/);
    assert.throws(() => table().parse(sealed(now / 1000 + MAX_CLOCK_SKEW_S + 5)), /clock skew/);
  });
  it('refuses unknown users and tampered headers', () => {
    const other = sealAeadHeader(userKeys(userIdBytes(randomUUID())), plain(), now / 1000);
    assert.throws(() => table().parse(other), /no VMess user/);
    const s = Buffer.from(sealed(now / 1000));
    s[s.length - 1] ^= 1;
    assert.throws(() => table().parse(s), /authenticate/);
  });
  it('survives random input', () => fuzz((b) => table().parse(b)));
});
