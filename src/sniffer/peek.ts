import type { Duplex, Readable } from 'node:stream';
import { fail, type SniffResult } from './result.js';

/** How long and how far the stream step reads before it gives up and lets the connection go on. */
export interface PeekLimits {
  /** most bytes read before giving up */
  readonly maxBytes: number;
  /** the client must send its first byte within this (a server-first protocol sends nothing) */
  readonly firstByteMs: number;
  /** and the sniffer must settle within this, counted from the start */
  readonly totalMs: number;
}

/** The reason the step gives when the client sent nothing in time (mihomo then suggests a skip rule). */
export const NO_DATA = 'no data';

/** Whether the stream has seen its end of file (the `end` event may not have been emitted yet). */
function sawEof(s: Readable): boolean {
  const state = (s as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return s.readableEnded || state?.ended === true;
}

/**
 * The one stream step of sniffing: reads the first bytes the client sends on `conn` and asks
 * `judge` about all of them so far after each read, until it names a host, fails, or a limit
 * is reached. Whatever was read is put back at the front of `conn` (unshift) before this
 * settles, so the relay reads exactly the bytes the client sent. Never rejects.
 */
export function peekAndJudge(conn: Duplex, judge: (head: Buffer) => SniffResult, limits: PeekLimits): Promise<SniffResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const finish = (r: SniffResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(firstTimer);
      clearTimeout(totalTimer);
      conn.off('readable', onReadable);
      conn.off('close', onClose);
      conn.off('error', onClose);
      if (length > 0 && !conn.destroyed) conn.unshift(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length));
      resolve(r);
    };
    const onReadable = (): void => {
      let c: Buffer | null;
      let got = false;
      while (length < limits.maxBytes && (c = conn.read() as Buffer | null) !== null) {
        chunks.push(c);
        length += c.length;
        got = true;
      }
      if (got) {
        clearTimeout(firstTimer);
        const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
        if (chunks.length > 1) chunks.splice(0, chunks.length, head);
        const r = judge(head);
        if (r.kind !== 'more') return finish(r);
        if (r.atLeast > limits.maxBytes || length >= limits.maxBytes) return finish(fail('too much data'));
      }
      // the client half-closed before the head was whole: decide now, while the bytes can still be put back
      if (sawEof(conn)) finish(fail(length === 0 ? NO_DATA : 'not enough data'));
    };
    const onClose = (): void => finish(fail('closed'));
    const firstTimer = setTimeout(() => finish(fail(NO_DATA)), limits.firstByteMs);
    const totalTimer = setTimeout(() => finish(fail(length === 0 ? NO_DATA : 'not enough data')), limits.totalMs);
    conn.on('readable', onReadable);
    conn.on('close', onClose);
    conn.on('error', onClose);
    if (conn.destroyed) finish(fail('closed'));
    else if (conn.readableLength > 0) onReadable();
  });
}
