import type { Duplex } from 'node:stream';

/**
 * Ends the stream below a protocol layer (after `last`, if given) and calls `cb`, the layer's
 * `_final` callback, only once that stream took every byte (its 'finish'). Calling `cb` at once
 * would let the layer finish while the stream below still buffers data; when the layer's read
 * side has already ended (the server finished first), autoDestroy then destroys the layer and
 * the stream below with it, and the tail of the upload is silently lost. A stream below that is
 * already ended or destroyed has nothing to wait for. Its errors reach the layer through the
 * layer's own 'error'/'close' listeners, so the wait never fails the callback.
 */
export function endBelow(inner: Duplex, cb: (err?: Error | null) => void, last?: Buffer): void {
  if (inner.destroyed || inner.writableEnded) {
    cb();
    return;
  }
  if (last !== undefined && last.length > 0) inner.write(last);
  inner.end(() => cb());
}
