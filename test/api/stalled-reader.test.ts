/**
 * A reader that stops reading is dropped, never buffered for: a real client asks /logs (chunked
 * and over WebSocket), then reads nothing while the core logs 80 MB of lines. Afterwards the
 * client reads what reached it: the stream has ended (the controller cut it) and it holds at
 * most the controller's limit plus what the kernel's socket buffers took, far less than was logged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ControllerService } from '../../src/api/service.js';
import { STREAM_BUFFER_LIMIT } from '../../src/api/streams.js';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { freePort } from '../support/ports.js';

const SECRET = 'st4lled';
const LINES = 20_000;
const LINE = 'x'.repeat(4096);
/** what loopback socket buffers may hold on both ends, generously */
const KERNEL_SLACK = 16 << 20;

/** `p`, or a failure after `ms` (a reader never cut would wait forever for the end) */
function within(p: Promise<void>, ms: number, what: string): Promise<void> {
  return Promise.race([p, new Promise<void>((_, j) => setTimeout(() => j(new Error(`${what} not within ${ms} ms`)), ms).unref())]);
}

describe('stalled stream readers', { timeout: 120_000 }, () => {
  let host: Host;
  let api = 0;

  before(async () => {
    api = await freePort();
    const log = createLogger('info', () => {});
    const ctl = new ControllerService({ log, homeDir: mkdtempSync(join(tmpdir(), 'clash-ts-stall-')) });
    host = await Host.start(['mixed-port: 0', `external-controller: 127.0.0.1:${api}`, `secret: ${SECRET}`, 'rules:', '  - MATCH,DIRECT', ''].join('\n'), { log, services: [ctl] });
    ctl.serve(host.control);
  });
  after(async () => {
    await host?.close(0);
  });

  /** Logs LINES lines of 4 KiB, yielding to the event loop every 50 so the controller can write. */
  async function flood(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < LINES && Date.now() < deadline; i++) {
      host.log.info(LINE);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  test('chunked /logs: the reader that stopped reading is cut', async () => {
    const sock: Socket = connect(api, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /logs?level=info HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\n\r\n`);
    const head = await new Promise<string>((r) => sock.once('data', (b: Buffer) => r(b.toString('latin1'))));
    assert.match(head, /^HTTP\/1\.1 200/);
    sock.pause();
    await flood();
    let got = head.length;
    sock.on('data', (b: Buffer) => (got += b.length));
    sock.on('error', () => {});
    sock.resume();
    await within(new Promise<void>((r) => sock.once('close', () => r())), 20_000, 'the controller cut the stream');
    assert.ok(got < STREAM_BUFFER_LIMIT + KERNEL_SLACK, `received ${got} bytes of ${LINES * LINE.length} logged`);
  });

  test('WebSocket /logs: the reader that stopped reading is cut', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${api}/logs?level=info&token=${SECRET}`);
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });
    ws.pause();
    await flood();
    let got = 0;
    ws.on('message', (m: Buffer) => (got += m.length));
    ws.on('error', () => {});
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    ws.resume();
    await within(closed, 20_000, 'the controller cut the stream');
    assert.ok(got < STREAM_BUFFER_LIMIT + KERNEL_SLACK, `received ${got} bytes of ${LINES * LINE.length} logged`);
  });
});
