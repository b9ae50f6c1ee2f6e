/** /traffic, /memory and /logs: a JSON line a second (or per entry), chunked or over WebSocket. */
import type { LogViewLevel } from '../../core/control-plane.js';
import { ApiError, MESSAGES } from '../http.js';
import type { Router } from '../router.js';
import { logText } from '../shapes.js';
import { every } from '../streams.js';

const LEVELS: Record<string, LogViewLevel | 'silent'> = { debug: 'debug', info: 'info', warning: 'warning', error: 'error', silent: 'silent' };

export function telemetryRoutes(router: Router): void {
  router
    .add('GET', '/traffic', {
      stream: (r, sink) =>
        every(sink, 1000, () => {
          const t = r.api.control.traffic();
          return { up: t.up, down: t.down };
        }),
    })
    .add('GET', '/memory', {
      stream(r, sink) {
        let first = true; // mihomo's first line says 0 so charts start from zero
        return every(sink, 1000, () => {
          const inuse = first ? 0 : r.api.control.memory().inuse;
          first = false;
          return { inuse, oslimit: 0 };
        });
      },
    })
    .add('GET', '/logs', {
      check(url) {
        if (LEVELS[url.searchParams.get('level') || 'info'] === undefined) throw new ApiError(400, MESSAGES.badRequest);
      },
      stream(r, sink) {
        const level = LEVELS[r.url.searchParams.get('level') || 'info'];
        const structured = r.url.searchParams.get('format') === 'structured';
        if (level === 'silent') return undefined; // nothing is ever at or above silent
        const stop = r.api.control.subscribeLogs((e) => {
          if (!sink.sendText(logText(e, structured))) stop();
        }, level);
        sink.onClose(stop);
        return stop;
      },
    });
}

