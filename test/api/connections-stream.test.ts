/**
 * The /connections WebSocket with many live connections (issue 13 item 4): a snapshot is made in
 * slices on several loop turns and sent as one text message in fragments; a real `ws` client gets
 * it whole, with every live tunnel and its byte counters. A reader that stops reading gets no
 * queue (its ticks are skipped) and is dropped after STALL_LIMIT_MS; the tunnels' hashed data
 * is untouched throughout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ControllerService } from '../../src/api/service.js';
import { SLICE_CONNECTIONS } from '../../src/api/snapshot-encoder.js';
import { STALL_LIMIT_MS } from '../../src/api/streams.js';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { openTunnels, type HashedTunnel } from '../host/tunnels.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';

const SECRET = 'sl1ces';
/** enough for three slices and the tail */
const TUNNELS = SLICE_CONNECTIONS * 2 + 200;

describe('/connections stream with many live connections', { timeout: 120_000 }, () => {
  let host: Host;
  let echo: Local;
  let api = 0;
  let tunnels: HashedTunnel[] = [];

  before(async () => {
    api = await freePort();
    const mixed = await freePort();
    echo = await tcpEcho();
    const log = createLogger('warning', () => {});
    const ctl = new ControllerService({ log, homeDir: mkdtempSync(join(tmpdir(), 'clash-ts-connstream-')) });
    host = await Host.start([`mixed-port: ${mixed}`, `external-controller: 127.0.0.1:${api}`, `secret: ${SECRET}`, 'rules:', '  - MATCH,DIRECT', ''].join('\n'), { log, services: [ctl] });
    ctl.serve(host.control);
    tunnels = await openTunnels(TUNNELS, 50, mixed, echo.port);
    await Promise.all(tunnels.map((t, i) => t.round(100 + i)));
  });
  after(async () => {
    for (const t of tunnels) t.socket.destroy();
    await host?.close(0);
    await echo?.close();
  });

  function open(interval: number): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${api}/connections?interval=${interval}&token=${SECRET}`, { maxPayload: 64 << 20 });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  test('a reader gets whole snapshots with every tunnel and its counters', async () => {
    const ws = await open(200);
    const frames: { text: string }[] = [];
    const got = new Promise<void>((resolve, reject) => {
      ws.on('message', (m: Buffer, binary: boolean) => {
        assert.equal(binary, false, 'a text message');
        frames.push({ text: m.toString('utf8') });
        if (frames.length === 3) resolve();
      });
      ws.once('close', () => reject(new Error(`closed after ${frames.length} messages`)));
      setTimeout(() => reject(new Error(`${frames.length} messages in 10 s`)), 10_000).unref();
    });
    await got;
    ws.close();
    const byPort = new Map(tunnels.map((t) => [String(t.socket.localPort), t]));
    for (const f of frames) {
      assert.ok(f.text.endsWith('}\n'), 'one JSON value and its newline');
      const snap = JSON.parse(f.text) as { connections: { metadata: { sourcePort: string }; upload: number; download: number; chains: string[] }[]; uploadTotal: number; memory: number };
      assert.equal(typeof snap.memory, 'number');
      const mine = snap.connections.filter((c) => byPort.has(c.metadata.sourcePort));
      assert.equal(mine.length, TUNNELS, 'every live tunnel listed once');
      for (const c of mine) {
        const t = byPort.get(c.metadata.sourcePort)!;
        assert.equal(c.upload, t.sentBytes, 'upload counter');
        assert.equal(c.download, t.gotBytes, 'download counter');
        assert.deepEqual(c.chains, ['DIRECT']);
      }
    }
  });

  test('on the wire: one text frame then continuation frames, FIN on the last (a message in fragments)', async () => {
    const sock = connect(api, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /connections?interval=1000&token=${SECRET} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    // read the 101 and the frames of the first message: [fin, opcode, length] each
    const frames = await new Promise<[boolean, number, number][]>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      let head = true;
      const out: [boolean, number, number][] = [];
      sock.on('data', (b: Buffer) => {
        buf = Buffer.concat([buf, b]);
        if (head) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          assert.match(buf.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 101/);
          buf = buf.subarray(end + 4);
          head = false;
        }
        for (;;) {
          if (buf.length < 2) return;
          let len = buf[1] & 0x7f;
          let at = 2;
          if (len === 126) [len, at] = buf.length < 4 ? [-1, 0] : [buf.readUInt16BE(2), 4];
          else if (len === 127) [len, at] = buf.length < 10 ? [-1, 0] : [Number(buf.readBigUInt64BE(2)), 10];
          if (len < 0 || buf.length < at + len) return;
          const fin = (buf[0] & 0x80) !== 0;
          out.push([fin, buf[0] & 0x0f, len]);
          buf = buf.subarray(at + len);
          if (fin) return resolve(out);
        }
      });
      sock.once('error', reject);
      setTimeout(() => reject(new Error(`${out.length} frames, no FIN in 10 s`)), 10_000).unref();
    });
    sock.destroy();
    assert.ok(frames.length >= 3, `${frames.length} frames`);
    assert.deepEqual(frames[0].slice(0, 2), [false, 1], 'a text frame opens the message');
    for (const f of frames.slice(1, -1)) assert.deepEqual(f.slice(0, 2), [false, 0], 'continuations in between');
    assert.deepEqual(frames.at(-1)!.slice(0, 2), [true, 0], 'the last ends it');
  });

  test('the counters a snapshot shows follow the traffic (kept JSON is rewritten where they moved)', async () => {
    const moved = tunnels.filter((_, i) => i % 3 === 0);
    await Promise.all(moved.map((t) => t.round(5000)));
    const ws = await open(200);
    const text = await new Promise<string>((resolve, reject) => {
      ws.once('message', (m: Buffer) => resolve(m.toString('utf8')));
      ws.once('error', reject);
    });
    ws.close();
    const snap = JSON.parse(text) as { connections: { metadata: { sourcePort: string }; upload: number }[] };
    const up = new Map(snap.connections.map((c) => [c.metadata.sourcePort, c.upload]));
    for (const t of tunnels) assert.equal(up.get(String(t.socket.localPort)), t.sentBytes);
  });

  /** messages and bytes a reader took, counted as they arrive */
  function counting(ws: WebSocket): { messages: number; bytes: number; last: string } {
    const c = { messages: 0, bytes: 0, last: '' };
    ws.on('message', (m: Buffer) => {
      c.messages++;
      c.bytes += m.length;
      c.last = m.toString('utf8');
    });
    ws.on('error', () => {});
    return c;
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('a reader that pauses for less than the stall limit is kept: it gets fewer snapshots, no queue', async () => {
    const ws = await open(100);
    const c = counting(ws);
    let closed = false;
    ws.once('close', () => (closed = true));
    await sleep(500);
    ws.pause(); // the kernel's buffers fill, then nothing drains for a while
    await Promise.all(tunnels.slice(0, 100).map((t) => t.round(2048))); // the relay works meanwhile
    await sleep(STALL_LIMIT_MS / 2);
    const before = c.messages;
    ws.resume();
    await sleep(2000);
    assert.equal(closed, false, 'a reader that came back in time is still served');
    assert.ok(c.messages > before, 'and gets snapshots again');
    assert.equal(JSON.parse(c.last).connections.length >= TUNNELS, true);
    ws.close();
    for (const t of tunnels.slice(0, 100)) assert.ok(t.verify().ok, 'tunnel data intact');
  });

  test('a reader that stops reading is dropped after the stall limit; what reached it is bounded', async () => {
    const ws = await open(100);
    const c = counting(ws);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await sleep(500);
    const early = { messages: c.messages, bytes: c.bytes };
    ws.pause();
    const pausedMs = STALL_LIMIT_MS + 5000;
    await sleep(pausedMs);
    ws.resume(); // reads what the kernel held, then finds the stream cut
    await Promise.race([closed, sleep(5000).then(() => Promise.reject(new Error('the stalled reader was never dropped')))]);
    const snapshot = early.bytes / Math.max(1, early.messages);
    const due = (pausedMs / 100) * snapshot;
    const slack = 16 << 20; // what loopback socket buffers may hold on both ends, generously
    assert.ok(c.bytes - early.bytes < slack + 2 * snapshot, `${c.bytes - early.bytes} bytes reached it while stalled, of ${Math.round(due)} due`);
    assert.ok(due > 2 * slack, 'the test offered far more than the buffers hold');
  });
});
