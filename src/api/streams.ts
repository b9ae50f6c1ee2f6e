import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Bytes a reader may leave unread before it is dropped. A dashboard reads a line a second; one
 * that stalls (a background tab, a stuck client) must not make the core buffer without bound.
 */
export const STREAM_BUFFER_LIMIT = 512 * 1024;

/**
 * How long a periodic reader may leave its last message undrained, making no progress at all,
 * before it is dropped. Until then its ticks are skipped: it gets fewer messages, never a queue.
 */
export const STALL_LIMIT_MS = 10_000;

/** Where a stream's JSON lines go: a chunked HTTP body or WebSocket text frames. */
export interface StreamSink {
  /** Queues one JSON value; false once the reader is gone or was dropped for falling behind. */
  send(value: unknown): boolean;
  /** Queues one value already in JSON text (the same bound applies). */
  sendText(json: string): boolean;
  /**
   * Sends one message made of `slices` (UTF-8 JSON text, the last ending the value), one slice
   * per loop turn so the loop serves the relay in between; resolves true once the last is
   * queued, false when the reader went on the way (the rest is never made).
   */
  sendSlices(slices: Iterator<Buffer>): Promise<boolean>;
  /** bytes queued for the reader and not yet taken by the kernel */
  pending(): number;
  /** Drops the reader at once (it fell behind). */
  drop(): void;
  close(): void;
  /** runs once when the reader goes away (or is dropped) */
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

abstract class BoundedSink implements StreamSink {
  #closed = false;
  readonly #onClose: (() => void)[] = [];

  get closed(): boolean {
    return this.#closed;
  }

  protected abstract buffered(): number;
  protected abstract write(text: string): void;
  /** one slice of a message; `last` ends the message */
  protected abstract writeSlice(bytes: Buffer, last: boolean): void;
  protected abstract end(): void;
  protected abstract kill(): void;

  send(value: unknown): boolean {
    if (this.#closed) return false;
    return this.sendText(JSON.stringify(value));
  }

  sendText(json: string): boolean {
    if (this.#closed) return false;
    if (this.buffered() > STREAM_BUFFER_LIMIT) {
      this.kill(); // a reader this far behind is dropped, never buffered for
      this.gone();
      return false;
    }
    this.write(json + '\n');
    return true;
  }

  async sendSlices(slices: Iterator<Buffer>): Promise<boolean> {
    let cur = slices.next();
    try {
      while (!cur.done) {
        if (this.#closed) return false;
        const next = slices.next();
        this.writeSlice(cur.value, next.done === true);
        cur = next;
        if (!cur.done) await new Promise<void>((r) => setImmediate(r));
      }
      return !this.#closed;
    } finally {
      if (!cur.done) slices.return?.(undefined);
    }
  }

  pending(): number {
    return this.buffered();
  }

  drop(): void {
    if (this.#closed) return;
    this.kill();
    this.gone();
  }

  close(): void {
    if (this.#closed) return;
    this.end();
    this.gone();
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#onClose.push(fn);
  }

  protected gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fn of this.#onClose.splice(0)) fn();
  }
}

/** JSON lines in a chunked response (mihomo's non-WebSocket /traffic, /memory, /logs). */
export class ChunkedSink extends BoundedSink {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    super();
    this.#res = res;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    res.on('close', () => this.gone());
  }

  protected buffered(): number {
    return this.#res.writableLength + (this.#res.socket?.writableLength ?? 0);
  }
  protected write(text: string): void {
    this.#res.write(text);
  }
  protected writeSlice(bytes: Buffer): void {
    this.#res.write(bytes);
  }
  protected end(): void {
    this.#res.end();
  }
  protected kill(): void {
    this.#res.destroy();
  }
}

/**
 * One text frame per JSON value. Given the connection's socket (the one the upgrade handed to
 * `ws`), the frames queued in one loop turn leave in one write: at 2,000 log lines a second a
 * syscall per line was a good part of what /logs cost the relay. Each line stays its own message.
 */
export class WsSink extends BoundedSink {
  readonly #ws: WebSocket;
  readonly #socket: Duplex | undefined;
  #corked = false;

  constructor(ws: WebSocket, socket?: Duplex) {
    super();
    this.#ws = ws;
    this.#socket = socket;
    ws.on('close', () => this.gone());
    ws.on('error', () => this.gone());
  }

  /** holds this turn's frames until the loop turns (ws's own cork per frame nests inside) */
  #batch(): void {
    const s = this.#socket;
    if (this.#corked || s === undefined || s.destroyed) return;
    this.#corked = true;
    s.cork();
    setImmediate(() => {
      this.#corked = false;
      s.uncork();
    });
  }

  protected buffered(): number {
    return this.#ws.bufferedAmount;
  }
  protected write(text: string): void {
    this.#batch();
    this.#ws.send(text);
  }
  protected writeSlice(bytes: Buffer, last: boolean): void {
    // a fragment of one text message: the reader gets the message whole, as mihomo sends it
    this.#ws.send(bytes, { binary: false, fin: last });
  }
  protected end(): void {
    this.#ws.close(1000);
  }
  protected kill(): void {
    this.#ws.terminate();
  }
}

/**
 * Sends `produce()` now (when `immediate`) and every `ms` until the reader goes; returns the stop.
 */
export function every(sink: StreamSink, ms: number, produce: () => unknown, immediate = false): () => void {
  return everyText(sink, ms, () => JSON.stringify(produce()), immediate);
}

/** {@link every} for a producer that returns JSON text itself. */
export function everyText(sink: StreamSink, ms: number, produce: () => string, immediate = false): () => void {
  if (immediate) sink.sendText(produce());
  const t = setInterval(() => {
    if (!sink.sendText(produce())) clearInterval(t);
  }, ms);
  sink.onClose(() => clearInterval(t));
  return () => clearInterval(t);
}

/**
 * Sends the message `produce()` makes, in its slices, now (when `immediate`) and every `ms` until
 * the reader goes; returns the stop. A tick is skipped while the previous message is still being
 * made or has not drained to the kernel, so what waits for a reader is at most one message; a
 * reader that takes nothing for {@link STALL_LIMIT_MS} is dropped.
 */
export function everySliced(sink: StreamSink, ms: number, produce: () => Iterator<Buffer>, immediate = false): () => void {
  let busy = false;
  let stalled: { since: number; pending: number } | undefined;
  const tick = (): void => {
    if (busy || sink.closed) return;
    const pending = sink.pending();
    if (pending > 0) {
      const now = Date.now();
      if (stalled === undefined || pending < stalled.pending) stalled = { since: now, pending };
      else if (now - stalled.since >= STALL_LIMIT_MS) {
        clearInterval(t);
        sink.drop();
      }
      return;
    }
    stalled = undefined;
    let slices: Iterator<Buffer>;
    try {
      slices = produce();
    } catch {
      clearInterval(t);
      sink.drop();
      return;
    }
    busy = true;
    sink.sendSlices(slices).then(
      (ok) => {
        busy = false;
        if (!ok) clearInterval(t);
      },
      () => {
        busy = false;
        clearInterval(t);
        sink.drop();
      },
    );
  };
  const t = setInterval(tick, ms);
  sink.onClose(() => clearInterval(t));
  if (immediate) tick();
  return () => clearInterval(t);
}
