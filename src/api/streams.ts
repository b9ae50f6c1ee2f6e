import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';

/**
 * Bytes a reader may leave unread before it is dropped. A dashboard reads a line a second; one
 * that stalls (a background tab, a stuck client) must not make the core buffer without bound.
 */
export const STREAM_BUFFER_LIMIT = 512 * 1024;

/** Where a stream's JSON lines go: a chunked HTTP body or WebSocket text frames. */
export interface StreamSink {
  /** Queues one JSON value; false once the reader is gone or was dropped for falling behind. */
  send(value: unknown): boolean;
  /** Queues one value already in JSON text (the same bound applies). */
  sendText(json: string): boolean;
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
  protected end(): void {
    this.#res.end();
  }
  protected kill(): void {
    this.#res.destroy();
  }
}

/** One text frame per JSON value. */
export class WsSink extends BoundedSink {
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    super();
    this.#ws = ws;
    ws.on('close', () => this.gone());
    ws.on('error', () => this.gone());
  }

  protected buffered(): number {
    return this.#ws.bufferedAmount;
  }
  protected write(text: string): void {
    this.#ws.send(text);
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
