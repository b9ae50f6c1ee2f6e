/** /connections (mihomo's hub/route/connections.go). */
import { ApiError, MESSAGES, noContent, sendJson } from '../http.js';
import type { Request, Router } from '../router.js';
import { snapshotJson } from '../shapes.js';
import { every } from '../streams.js';

/** The shortest interval a WebSocket reader may ask for (a snapshot costs the whole list). */
const MIN_INTERVAL_MS = 100;

function snapshot(r: Pick<Request, 'api'>): Record<string, unknown> {
  const c = r.api.control;
  return snapshotJson(c.connections(), c.traffic(), c.memory().inuse);
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
      handle: (r) => sendJson(r.res, 200, snapshot(r)),
      check(url) {
        if (intervalOf(url) === undefined) throw new ApiError(400, MESSAGES.badRequest);
      },
      stream: (r, sink) => every(sink, Math.max(MIN_INTERVAL_MS, intervalOf(r.url) ?? 1000), () => snapshot(r), true),
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
