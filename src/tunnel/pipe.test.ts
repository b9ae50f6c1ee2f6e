import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { pipe, type ByteCounter } from './pipe.js';

/** A relay between a client socket pair and a server socket pair, all on loopback. */
async function relayPair(serverHandler: (s: net.Socket) => void, idleTimeoutMs = 0) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    serverHandler(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sport = (server.address() as net.AddressInfo).port;
  const counter: ByteCounter = { upload: 0, download: 0 };
  let closedResolve!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (closedResolve = r));
  const front = net.createServer({ allowHalfOpen: true }, (inbound) => {
    const remote = net.connect({ port: sport, host: '127.0.0.1', allowHalfOpen: true });
    sockets.add(inbound).add(remote);
    pipe(inbound, remote, counter, { idleTimeoutMs, onClose: closedResolve });
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const fport = (front.address() as net.AddressInfo).port;
  const client = net.connect({ port: fport, host: '127.0.0.1', allowHalfOpen: true });
  await once(client, 'connect');
  const stop = () => {
    client.destroy();
    for (const s of sockets) s.destroy();
    server.close();
    front.close();
  };
  return { client, counter, closed, stop };
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

test('moves 8 MiB each way at once with hashes intact and counts bytes', async () => {
  const up = randomBytes(8 << 20);
  const down = randomBytes(8 << 20);
  const got: Buffer[] = [];
  let serverHash = '';
  const { client, counter, closed, stop } = await relayPair((s) => {
    const h = createHash('sha256');
    s.on('data', (c: Buffer) => h.update(c));
    s.on('end', () => {
      serverHash = h.digest('hex');
      s.end();
    });
    s.write(down);
  });
  client.on('data', (c: Buffer) => got.push(c));
  client.end(up);
  await once(client, 'end');
  await closed;
  assert.equal(sha(Buffer.concat(got)), sha(down));
  assert.equal(serverHash, sha(up));
  assert.equal(counter.upload, up.length);
  assert.equal(counter.download, down.length);
  stop();
});

test('half-close: the client ends, still receives the reply', async () => {
  const { client, closed, stop } = await relayPair((s) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => s.end(Buffer.concat(parts).toString().toUpperCase()));
  });
  client.end('hello');
  const [reply] = await Promise.all([
    new Promise<string>((r) => {
      let t = '';
      client.on('data', (c: Buffer) => (t += c.toString()));
      client.on('end', () => r(t));
    }),
    closed,
  ]);
  assert.equal(reply, 'HELLO');
  stop();
});

test('a server reset destroys the client leg', async () => {
  const { client, closed, stop } = await relayPair((s) => {
    s.once('data', () => s.resetAndDestroy());
  });
  let clientError: NodeJS.ErrnoException | undefined;
  client.on('error', (e) => (clientError = e));
  client.write('x');
  await new Promise((r) => client.on('close', r)); // events.once would reject on the 'error' we expect
  assert.equal(clientError?.code, 'ECONNRESET', 'the reset is passed on, not turned into a clean EOF');
  await closed;
  stop();
});

test('a client abort destroys the server leg', async () => {
  let serverClosed!: () => void;
  const serverGone = new Promise<void>((r) => (serverClosed = r));
  const { client, closed, stop } = await relayPair((s) => {
    s.on('error', () => {});
    s.on('close', () => serverClosed());
  });
  client.resetAndDestroy();
  await serverGone;
  await closed;
  stop();
});

test('idle timeout closes both legs', async () => {
  const { client, closed, stop } = await relayPair(() => {}, 200);
  const t0 = Date.now();
  await once(client, 'end');
  await closed;
  assert.ok(Date.now() - t0 >= 150);
  stop();
});

test('backpressure: a slow reader does not make the relay buffer everything', async () => {
  let serverSock!: net.Socket;
  const { client, stop } = await relayPair((s) => {
    serverSock = s;
    s.pause(); // never reads
  });
  const chunk = Buffer.alloc(64 << 10);
  let written = 0;
  // write until the client's own buffer says stop, bounded
  for (let i = 0; i < 2000 && client.write(chunk); i++) written += chunk.length;
  await new Promise((r) => setTimeout(r, 300));
  // without backpressure the relay would keep draining the client and all 2000 writes would fit;
  // with it, kernel buffers plus high-water marks fill and the client is told to wait
  assert.ok(written < 2000 * chunk.length, `wrote ${written} bytes without being told to wait`);
  assert.ok(serverSock.bytesRead <= 1 << 20);
  stop();
});

test('a client that ended before the relay started still half-closes the remote', async () => {
  const { PassThrough } = await import('node:stream');
  let sawEnd!: () => void;
  const ended = new Promise<void>((r) => (sawEnd = r));
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.resume();
    s.on('end', () => {
      sawEnd();
      s.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = new PassThrough();
  client.end();
  client.resume();
  await once(client, 'end'); // the FIN was read while nobody relayed
  const remote = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  pipe(client, remote, { upload: 0, download: 0 }, { idleTimeoutMs: 0 });
  await ended;
  remote.destroy();
  server.close();
});
