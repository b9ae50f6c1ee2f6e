/** /connections (mihomo's hub/route/connections.go). */
import { ApiError, MESSAGES, noContent } from '../http.js';
import type { Request, Router } from '../router.js';
import { SnapshotEncoder } from '../snapshot-encoder.js';
import { everyText } from '../streams.js';

/** The shortest interval a WebSocket reader may ask for (a snapshot costs the whole list). */
const MIN_INTERVAL_MS = 100;

/** one encoder for every reader: the cached pieces are the same for all */
const encoder = new SnapshotEncoder();

function snapshot(r: Pick<Request, 'api'>): string {
  const c = r.api.control;
  return encoder.encode(c.connections(), c.traffic(), c.memory().inuse);
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
      handle(r) {
        const text = snapshot(r) + '\n';
        r.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
        r.res.end(text);
      },
      check(url) {
        if (intervalOf(url) === undefined) throw new ApiError(400, MESSAGES.badRequest);
      },
      stream: (r, sink) => everyText(sink, Math.max(MIN_INTERVAL_MS, intervalOf(r.url) ?? 1000), () => snapshot(r), true),
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
