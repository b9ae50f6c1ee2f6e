/** /, /version, /restart and the /upgrade family. */
import { VERSION } from '../../common/version.js';
import { errorMessage } from '../../core/errors.js';
import { ApiError, sendJson } from '../http.js';
import type { Handler, Router } from '../router.js';
import { updateGeo } from './configs.js';

/** A feature clash-ts deliberately lacks: 501 with the reason. */
export function notProvided(message: string): Handler {
  return () => {
    throw new ApiError(501, message);
  };
}

const NO_UPGRADE = 'clash-ts does not download or replace itself: upgrade it with npm';

export function systemRoutes(router: Router): void {
  router
    .add('GET', '/', { handle: (r) => sendJson(r.res, 200, { hello: 'mihomo' }) })
    .add('GET', '/version', { handle: (r) => sendJson(r.res, 200, { meta: true, version: `v${VERSION}` }) })
    .add('POST', '/restart', {
      handle(r) {
        const restart = r.api.restart;
        if (!restart) throw new ApiError(501, 'restart is not available in this process');
        sendJson(r.res, 200, { status: 'ok' });
        // after the answer: the restart swaps the config the request came through
        setImmediate(() => restart().catch((err: unknown) => r.api.log.error(`restart: ${errorMessage(err)}`)));
      },
    })
    .add('POST', '/upgrade', { handle: notProvided(NO_UPGRADE) })
    .add('POST', '/upgrade/ui', { handle: notProvided('clash-ts does not download dashboards: put one in the external-ui folder') })
    // mihomo's /upgrade/geo is the same update as POST /configs/geo (routes/configs.ts)
    .add('POST', '/upgrade/geo', { handle: updateGeo });
}
