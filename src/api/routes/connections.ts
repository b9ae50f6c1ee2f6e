/** /connections (mihomo's hub/route/connections.go). */
import { ApiError, MESSAGES, noContent } from '../http.js';
import type { Request, Router } from '../router.js';
import { SnapshotEncoder } from '../snapshot-encoder.js';
import { everySliced } from '../streams.js';

/** The shortest interval a WebSocket reader may ask for (a snapshot costs the whole list). */
const MIN_INTERVAL_MS = 100;

/** one encoder for every reader: the kept JSON of a connection is the same for all */
const encoder = new SnapshotEncoder();
/** WebSocket readers now; when the last goes, the kept JSON goes too */
let readers = 0;
/** How long the kept JSON outlives the last GET when no stream reads snapshots. */
const KEEP_AFTER_GET_MS = 30_000;
let forget: NodeJS.Timeout | undefined;

/** After a GET: the kept JSON serves the next poll, and goes if none comes (nor any stream). */
function forgetLater(): void {
  clearTimeout(forget);
  forget = setTimeout(() => {
    if (readers === 0) encoder.clear();
  }, KEEP_AFTER_GET_MS).unref();
}

/** One snapshot, in slices, each line ending in a newline as the other streams' do. */
function snapshot(r: Pick<Request, 'api'>): Generator<Buffer, void, undefined> {
  const c = r.api.control;
  // each view made when its slice is, so no loop turn walks all 10,000 (a cluster's list is whole)
  return encoder.slices(c.eachConnection?.() ?? c.connections(), c.traffic(), () => c.memory().inuse, '\n');
}

/** ?interval= in ms (default 1000); undefined when not a positive integer */
function intervalOf(url: URL): number | undefined {
  const text = url.searchParams.get('interval');
  if (text === null || text === '') return 1000;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function connectionRoutes(router: Router): void {
  router
    .add('GET', '/connections', {
      async handle(r) {
        // made a slice per loop turn like the stream's, then sent with its length
        const parts: Buffer[] = [];
        for (const s of snapshot(r)) {
          parts.push(s);
          await new Promise<void>((done) => setImmediate(done));
        }
        const body = Buffer.concat(parts);
        forgetLater();
        r.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
        r.res.end(body);
      },
      check(url) {
        if (intervalOf(url) === undefined) throw new ApiError(400, MESSAGES.badRequest);
      },
      stream(r, sink) {
        readers++;
        sink.onClose(() => {
          if (--readers === 0) encoder.clear();
        });
        return everySliced(sink, Math.max(MIN_INTERVAL_MS, intervalOf(r.url) ?? 1000), () => snapshot(r), true);
      },
    })
    .add('DELETE', '/connections', {
      async handle(r) {
        await r.api.control.closeAllConnections();
        noContent(r.res);
      },
    })
    .add('DELETE', '/connections/:id', {
      async handle(r) {
        if (r.params.id === '') throw new ApiError(400, MESSAGES.badRequest);
        await r.api.control.closeConnection(r.params.id);
        noContent(r.res);
      },
    });
}
