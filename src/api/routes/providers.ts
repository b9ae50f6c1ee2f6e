/** /providers/proxies and /providers/rules (mihomo's hub/route/provider.go). None exist yet. */
import { ApiError, MESSAGES, sendJson } from '../http.js';
import type { Handler, Router } from '../router.js';

const noSuchProvider: Handler = () => {
  throw new ApiError(404, MESSAGES.notFound);
};

function providersOf(kind: 'proxy' | 'rule'): Handler {
  return (r) => {
    const providers: Record<string, unknown> = {};
    for (const p of r.api.control.providers().filter((p) => p.kind === kind)) {
      providers[p.name] = { name: p.name, type: kind === 'proxy' ? 'Proxy' : 'Rule', vehicleType: p.vehicleType, updatedAt: new Date(p.updatedAt).toISOString(), ...(kind === 'proxy' && { proxies: [] }) };
    }
    sendJson(r.res, 200, { providers });
  };
}

export function providerRoutes(router: Router): void {
  router
    .add('GET', '/providers/proxies', { handle: providersOf('proxy') })
    .add('GET', '/providers/proxies/:name', { handle: noSuchProvider })
    .add('PUT', '/providers/proxies/:name', { handle: noSuchProvider })
    .add('GET', '/providers/proxies/:name/healthcheck', { handle: noSuchProvider })
    .add('GET', '/providers/proxies/:name/:proxy', { handle: noSuchProvider })
    .add('GET', '/providers/proxies/:name/:proxy/healthcheck', { handle: noSuchProvider })
    .add('GET', '/providers/rules', { handle: providersOf('rule') })
    .add('PUT', '/providers/rules/:name', { handle: noSuchProvider });
}
