import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../common/log.js';
import { createLogger } from '../common/log.js';
import type { Address } from '../core/address.js';
import type { Metadata } from '../core/metadata.js';
import type { Outbound, PacketConn } from '../core/outbound.js';
import { NatTable } from './nat.js';
import type { Router } from './route.js';
import type { RoutingSource } from './routing.js';
import { Tracker } from './tracker.js';

/** A PacketConn that records what it was asked to do. */
class RecordingConn implements PacketConn {
  sent = 0;
  closed = false;
  #onClose: (() => void) | undefined;
  send(): void {
    this.sent++;
  }
  onMessage(): void {}
  onClose(h: () => void): void {
    this.#onClose = h;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onClose?.();
  }
}

function setup(maxSessions: number, timeoutMs: number) {
  const conns: RecordingConn[] = [];
  const outbound: Outbound = {
    name: 'DIRECT',
    type: 'Direct',
    udp: true,
    dialTcp: () => Promise.reject(new Error('no TCP here')),
    dialUdp: async () => {
      const c = new RecordingConn();
      conns.push(c);
      return c;
    },
    close: async () => {},
  };
  const router = { mode: 'direct', route: async () => ({ outbound, chains: ['DIRECT'] }) } as unknown as Router;
  let retained = 0;
  const routing: RoutingSource = { current: () => ({ router, retain: () => void retained++, release: () => void retained-- }) };
  const lines: string[] = [];
  const base = createLogger('silent');
  const log: Logger = { ...base, level: 'warning', enabled: () => true, debug() {}, info() {}, warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
  const tracker = new Tracker();
  const nat = new NatTable({ routing, tracker, log, timeoutMs, maxSessions });
  return { nat, conns, lines, tracker, retained: () => retained };
}

const meta = (port: number): Metadata => ({
  id: String(port),
  network: 'udp',
  inbound: { type: 'SOCKS5', name: 'IN', port: 1 },
  source: { host: '127.0.0.1', port },
  destination: { host: '127.0.0.1', port: 9 },
});
const writeBack = { send(_d: Buffer, _f: Address, _t: Address): void {} };

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('NAT table limits', () => {
  it('holds at most maxSessions sessions; datagrams of new ones are dropped with one log line per interval', async () => {
    const { nat, conns, lines } = setup(3, 60_000);
    try {
      for (let p = 1; p <= 3; p++) nat.handle(Buffer.from('x'), meta(p), writeBack);
      await until(() => conns.length === 3, 'three sessions');
      for (let p = 100; p < 600; p++) nat.handle(Buffer.from('y'), meta(p), writeBack);
      await new Promise((r) => setImmediate(r));
      assert.equal(nat.size, 3);
      assert.equal(conns.length, 3, 'no dial for a session over the limit');
      const full = lines.filter((l) => l.includes('NAT table full'));
      assert.equal(full.length, 1, `one line for 500 drops, got ${JSON.stringify(lines)}`);
      assert.match(full[0], /^\[UDP\] NAT table full \(3 sessions\)/);
      // existing sessions still pass traffic
      nat.handle(Buffer.from('z'), meta(2), writeBack);
      assert.equal(conns[1].sent, 2);
    } finally {
      nat.close();
    }
  });

  it('closes idle sessions after the timeout, which frees their slots and releases their generation', async () => {
    const { nat, conns, tracker, retained } = setup(1, 300);
    try {
      nat.handle(Buffer.from('x'), meta(1), writeBack);
      await until(() => conns.length === 1, 'the session');
      assert.equal(tracker.size, 1);
      nat.handle(Buffer.from('x'), meta(2), writeBack); // table full: dropped
      await until(() => conns[0].closed, 'the idle timeout');
      assert.equal(nat.size, 0);
      assert.equal(tracker.size, 0);
      assert.equal(retained(), 0);
      nat.handle(Buffer.from('x'), meta(2), writeBack);
      await until(() => conns.length === 2, 'a new session in the freed slot');
    } finally {
      nat.close();
    }
  });
});
