/**
 * The relay's per-turn byte budget (fairness between relays, issue 17): a bulk relay yields the
 * event loop after its budget, so other relays' bytes get through between its reads, and the
 * budget never fights backpressure. No timed assertions: bytes are counted per event-loop turn
 * (a setImmediate sampler sees every check phase) and hashed end to end.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { pipe, type ByteCounter } from './pipe.js';

/** The largest read a net.Socket hands over at once (libuv's 64 KiB buffer). */
const READ_MAX = 64 << 10;

interface Leg {
  /** the client end, outside the relay */
  client: net.Socket;
  counter: ByteCounter;
  stop(): void;
}

/** client → [front ⇄ relay ⇄ remote] → server, all on loopback, relay with `budget`. */
async function relay(budget: number, onServer: (s: net.Socket) => void): Promise<Leg> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    onServer(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const counter: ByteCounter = { upload: 0, download: 0 };
  const front = net.createServer({ allowHalfOpen: true }, (inbound) => {
    const remote = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.add(inbound).add(remote);
    pipe(inbound, remote, counter, { idleTimeoutMs: 0 }, budget);
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const client = net.connect({ port: (front.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  await once(client, 'connect');
  return {
    client,
    counter,
    stop() {
      client.destroy();
      for (const s of sockets) s.destroy();
      server.close();
      front.close();
    },
  };
}

/** Records how many bytes `counter.download` grew by in each event-loop turn, until stopped. */
function perTurn(counter: ByteCounter): { max(): number; stop(): void } {
  let last = counter.download;
  let max = 0;
  let on = true;
  const tick = (): void => {
    const d = counter.download - last;
    last = counter.download;
    if (d > max) max = d;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  return { max: () => max, stop: () => void (on = false) };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Downloads `body` through a relay with `budget`; the largest number of bytes in one turn. */
async function bulkTurns(budget: number, body: Buffer): Promise<number> {
  const leg = await relay(budget, (s) => s.end(body));
  const got: Buffer[] = [];
  // let the server's bytes pile up in kernel buffers first, so one poll could read a lot
  leg.client.pause();
  await new Promise((r) => setTimeout(r, 100));
  const turns = perTurn(leg.counter);
  leg.client.on('data', (c: Buffer) => got.push(c));
  leg.client.resume();
  await once(leg.client, 'end');
  turns.stop();
  assert.equal(sha(Buffer.concat(got)), sha(body));
  leg.stop();
  return turns.max();
}

test('a bulk relay moves at most its budget plus one read per event-loop turn (and more without it)', async () => {
  const body = randomBytes(16 << 20);
  const budget = 128 << 10;
  const withBudget = await bulkTurns(budget, body);
  assert.ok(withBudget <= budget + READ_MAX, `${withBudget} bytes in one turn, budget ${budget}`);
  // the control: unbudgeted, one poll turn reads several 64 KiB buffers back to back
  const without = await bulkTurns(0, body);
  assert.ok(without > budget + READ_MAX, `unbudgeted relay moved only ${without} bytes in its busiest turn`);
});

test("a small flow's echo crosses a busy bulk relay within a few of its turns", async () => {
  const budget = 64 << 10;
  const body = randomBytes(64 << 20);
  const bulk = await relay(budget, (s) => {
    s.on('error', () => {});
    s.end(body);
  });
  const small = await relay(budget, (s) => s.pipe(s));
  const h = createHash('sha256');
  let downloaded = 0;
  bulk.client.on('data', (c: Buffer) => {
    h.update(c);
    downloaded += c.length;
  });
  // wait until the bulk transfer is in full flow
  while (downloaded < 4 << 20) await new Promise((r) => setImmediate(r));
  const crossings: number[] = [];
  for (let i = 0; i < 20 && downloaded < body.length - (8 << 20); i++) {
    const at = bulk.counter.download;
    small.client.write(Buffer.from([i]));
    const [echo] = (await once(small.client, 'data')) as [Buffer];
    assert.equal(echo[0], i);
    crossings.push(bulk.counter.download - at);
  }
  assert.ok(crossings.length >= 5, `only ${crossings.length} pings before the bulk transfer ended`);
  crossings.sort((a, b) => a - b);
  const median = crossings[Math.floor(crossings.length / 2)] as number;
  // a ping's round trip is ~4 poll turns of the loop (client→relay, relay→echo, echo→relay,
  // relay→client); each lets the bulk relay move one budget plus one read at most
  assert.ok(median <= 8 * (budget + READ_MAX), `the bulk relay moved ${median} bytes while one ping crossed (median)`);
  await once(bulk.client, 'end');
  assert.equal(h.digest('hex'), sha(body));
  bulk.stop();
  small.stop();
});

test('budget and backpressure do not fight: a bursty slow reader gets every byte', async () => {
  const body = randomBytes(8 << 20);
  const leg = await relay(16 << 10, (s) => s.end(body));
  const got: Buffer[] = [];
  let n = 0;
  leg.client.on('data', (c: Buffer) => {
    got.push(c);
    // every 8th read, stop reading for a moment: the relay must pause on backpressure and
    // resume on drain, also when its budget pause lands in between
    if (++n % 8 === 0) {
      leg.client.pause();
      setTimeout(() => leg.client.resume(), 2);
    }
  });
  await once(leg.client, 'end');
  assert.equal(sha(Buffer.concat(got)), sha(body));
  assert.equal(leg.counter.download, body.length);
  leg.stop();
});

test('a budget-paused relay still honours backpressure: a reader that never reads caps what it buffers', async () => {
  let server!: net.Socket;
  const leg = await relay(16 << 10, (s) => {
    server = s;
    s.end(randomBytes(32 << 20));
  });
  leg.client.pause(); // never reads
  await new Promise((r) => setTimeout(r, 500));
  // kernel buffers + high-water marks fill, then the relay stops reading from the server
  assert.ok(leg.counter.download < 16 << 20, `the relay took ${leg.counter.download} bytes for a reader that never reads`);
  assert.ok(server.writableLength > 0, 'the server was never told to wait');
  leg.stop();
});
