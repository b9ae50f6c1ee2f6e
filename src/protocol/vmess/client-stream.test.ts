import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { hasCode } from '../../core/errors.js';
import { VmessClientStream } from './client-stream.js';
import { ByteQueue } from './codec/byte-queue.js';
import { ChunkReader, ChunkWriter } from './codec/chunk.js';
import { openAeadHeader, sealAeadHeader } from './codec/header.js';
import { COMMAND, decodeRequest, encodeRequest } from './codec/request.js';
import { responseKeys, sealResponseHeader } from './codec/response.js';
import { framingFor, newSession, type SecurityName } from './codec/session.js';
import { userIdBytes, userKeys } from './codec/user.js';

const user = userKeys(userIdBytes('0b9b3a4e-8d2f-4c55-9a61-2f7e3c1d5b80'));

/**
 * A minimal VMess echo server from our own codec (what a listener will reuse): opens the
 * header, echoes body chunks back, answers EOF with EOF. `garbage`: answers random bytes.
 */
async function echoServer(mode: 'echo' | 'garbage' = 'echo'): Promise<{ port: number; firstReads: number[]; close(): Promise<void> }> {
  const firstReads: number[] = [];
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    const q = new ByteQueue();
    let reader: ChunkReader | undefined;
    let writer: ChunkWriter | undefined;
    let head: Buffer | undefined;
    let raw = false;
    s.on('data', (b: Buffer) => {
      if (firstReads.length === 0 || !reader) firstReads.push(b.length);
      if (mode === 'garbage') return void s.end(randomBytes(64));
      q.push(b);
      if (!reader && !raw) {
        const o = openAeadHeader(user, q.peekAll());
        if (o === undefined) return;
        if (o === 'mismatch') return void s.destroy();
        q.take(o.length);
        const r = decodeRequest(o.header);
        const rk = responseKeys(r.bodyKey, r.bodyIv);
        const inF = framingFor(r.option, r.security, r.bodyKey, r.bodyIv, r.bodyKey, r.bodyIv);
        const outF = framingFor(r.option, r.security, rk.key, rk.iv, r.bodyKey, r.bodyIv);
        head = sealResponseHeader(rk, { responseAuth: r.responseAuth, option: 0, command: 0, commandData: Buffer.alloc(0) });
        if (inF && outF) {
          reader = new ChunkReader(inF);
          writer = new ChunkWriter(outF);
        } else raw = true;
      }
      if (raw) {
        if (q.length > 0) s.write(Buffer.concat([head ?? Buffer.alloc(0), q.takeAll()]));
        head = undefined;
        return;
      }
      for (;;) {
        const p = reader!.next(q);
        if (p === undefined) return;
        if (p === null) return void s.end(writer!.end(head));
        s.write(writer!.stream(p, head));
        head = undefined;
      }
    });
    s.on('end', () => raw && s.end());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, firstReads, close: () => new Promise((r) => srv.close(() => r())) };
}

async function dial(port: number, security: SecurityName, extra: { padding?: boolean; authLen?: boolean } = {}): Promise<Duplex> {
  const session = newSession({ security, command: COMMAND.TCP, destination: { host: 'example.com', port: 80 }, globalPadding: !!extra.padding, authenticatedLength: !!extra.authLen });
  const head = sealAeadHeader(user, encodeRequest(session.request), Date.now() / 1000);
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => sock.once('connect', r).once('error', j));
  return new VmessClientStream(sock, session, head, 'test');
}

function roundTrip(c: Duplex, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    c.on('data', (b: Buffer) => got.push(b));
    c.once('end', () => resolve(Buffer.concat(got)));
    c.once('error', reject);
    c.write(data.subarray(0, 10));
    c.end(data.subarray(10));
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const [security, extra] of [
  ['aes-128-gcm', {}],
  ['chacha20-poly1305', { padding: true }],
  ['aes-128-gcm', { authLen: true }],
  ['chacha20-poly1305', { authLen: true, padding: true }],
  ['none', {}],
] as const) {
  test(`client stream against our own server: ${security} ${JSON.stringify(extra)}`, { timeout: 10_000 }, async () => {
    const s = await echoServer();
    try {
      const data = randomBytes(300_000);
      const c = await dial(s.port, security, extra);
      assert.equal(sha(await roundTrip(c, data)), sha(data));
      // the header rode with the first bytes: one read held header and data
      assert.ok(s.firstReads[0] > 42 + 16 + 10, `first read ${s.firstReads[0]} bytes`);
    } finally {
      await s.close();
    }
  });
}

test('with nothing to send, the header goes alone after a short wait (server-first protocols)', { timeout: 5000 }, async () => {
  const s = await echoServer();
  try {
    const c = await dial(s.port, 'aes-128-gcm');
    c.on('error', () => undefined);
    const t0 = Date.now();
    while (s.firstReads.length === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.equal(s.firstReads.length, 1);
    c.destroy();
  } finally {
    await s.close();
  }
});

test('a garbage response is a PROTOCOL error; the socket is freed', { timeout: 5000 }, async () => {
  const s = await echoServer('garbage');
  try {
    const c = await dial(s.port, 'aes-128-gcm');
    const err = await new Promise<unknown>((resolve) => {
      c.once('error', resolve);
      c.on('data', () => undefined);
      c.write('hello');
    });
    assert.ok(hasCode(err, 'PROTOCOL'), String(err));
    await new Promise((r) => (c.destroyed ? r(undefined) : c.once('close', r)));
  } finally {
    await s.close();
  }
});
