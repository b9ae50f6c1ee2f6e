/** /storage/:key: a dashboard's settings (zashboard syncs them here), bounded, kept in the home dir (storage-file.ts). */
import { ApiError, MESSAGES, noContent, readBody, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { STORAGE_KEY as KEY, STORAGE_MAX_KEYS, STORAGE_MAX_VALUE } from '../storage-file.js';


function keyOf(k: string): string {
  if (!KEY.test(k)) throw new ApiError(400, 'storage keys are 1-128 letters, digits, dots, dashes or underscores');
  return k;
}

export function storageRoutes(router: Router): void {
  router
    .add('GET', '/storage/:key', {
      handle(r) {
        const v = r.api.storage.get(keyOf(r.params.key));
        if (v === undefined) sendJson(r.res, 200, null);
        else {
          r.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(v) });
          r.res.end(v);
        }
      },
    })
    .add('PUT', '/storage/:key', {
      async handle(r) {
        const key = keyOf(r.params.key);
        const text = (await readBody(r.req, STORAGE_MAX_VALUE)).toString('utf8');
        try {
          JSON.parse(text);
        } catch {
          throw new ApiError(400, MESSAGES.badRequest);
        }
        if (!r.api.storage.has(key) && r.api.storage.size >= STORAGE_MAX_KEYS) throw new ApiError(400, `at most ${STORAGE_MAX_KEYS} storage keys`);
        r.api.storage.set(key, text);
        noContent(r.res);
      },
    })
    .add('DELETE', '/storage/:key', {
      handle(r) {
        r.api.storage.delete(keyOf(r.params.key));
        noContent(r.res);
      },
    });
}
