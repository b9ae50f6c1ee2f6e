/** /providers/proxies and /providers/rules (mihomo's hub/route/provider.go). */
import type { ControlPlane, ProviderView } from '../../core/control-plane.js';
import { errorMessage } from '../../core/errors.js';
import { ApiError, MESSAGES, noContent, sendJson } from '../http.js';
import type { Handler, Router } from '../router.js';
import { proxyJson } from '../shapes.js';

/** mihomo's provider object: its proxies in full, as /proxies shows each. */
function providerJson(control: ControlPlane, p: ProviderView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: p.name,
    type: p.kind === 'proxy' ? 'Proxy' : 'Rule',
    vehicleType: p.vehicleType,
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
  if (p.kind === 'rule') {
    out.behavior = p.behavior ?? '';
    out.format = p.format ?? '';
    out.ruleCount = p.ruleCount ?? 0;
    if (p.payload !== undefined) out.payload = p.payload;
  }
  if (p.kind === 'proxy') {
    out.proxies = (p.proxies ?? []).flatMap((n) => {
      const v = control.proxy(n);
      return v ? [proxyJson(v)] : [];
    });
    if (p.subscriptionInfo) out.subscriptionInfo = p.subscriptionInfo;
  }
  return out;
}

function find(control: ControlPlane, kind: 'proxy' | 'rule', name: string): ProviderView {
  const p = control.providers().find((x) => x.kind === kind && x.name === name);
  if (!p) throw new ApiError(404, MESSAGES.notFound);
  return p;
}

function providersOf(kind: 'proxy' | 'rule'): Handler {
  return (r) => {
    const providers: Record<string, unknown> = {};
    for (const p of r.api.control.providers().filter((p) => p.kind === kind)) providers[p.name] = providerJson(r.api.control, p);
    sendJson(r.res, 200, { providers });
  };
}

const oneProxyProvider: Handler = (r) => {
  sendJson(r.res, 200, providerJson(r.api.control, find(r.api.control, 'proxy', r.params.name)));
};

/** PUT: fetch / re-read now; 503 with the reason when it fails (the old set stays). */
const updateProxyProvider: Handler = async (r) => {
  find(r.api.control, 'proxy', r.params.name);
  try {
    await r.api.control.updateProvider(r.params.name);
  } catch (err) {
    throw new ApiError(503, errorMessage(err));
  }
  noContent(r.res);
};

/** PUT /providers/rules/:name: fetch / re-read now; 503 with the reason when it fails (the old set stays). */
const updateRuleProvider: Handler = async (r) => {
  find(r.api.control, 'rule', r.params.name);
  try {
    await r.api.control.updateRuleProvider(r.params.name);
  } catch (err) {
    throw new ApiError(503, errorMessage(err));
  }
  noContent(r.res);
};

const providerProxy: Handler = (r) => {
  const p = find(r.api.control, 'proxy', r.params.name);
  const v = (p.proxies ?? []).includes(r.params.proxy) ? r.api.control.proxy(r.params.proxy) : undefined;
  if (!v) throw new ApiError(404, MESSAGES.notFound);
  sendJson(r.res, 200, proxyJson(v));
};

/** Provider health checks run nowhere yet: said so, not faked. */
const noHealthCheck: Handler = (r) => {
  find(r.api.control, 'proxy', r.params.name);
  throw new ApiError(501, 'provider health checks are not supported yet; test the proxies with /proxies/:name/delay');
};

export function providerRoutes(router: Router): void {
  router
    .add('GET', '/providers/proxies', { handle: providersOf('proxy') })
    .add('GET', '/providers/proxies/:name', { handle: oneProxyProvider })
    .add('PUT', '/providers/proxies/:name', { handle: updateProxyProvider })
    .add('GET', '/providers/proxies/:name/healthcheck', { handle: noHealthCheck })
    .add('GET', '/providers/proxies/:name/:proxy', { handle: providerProxy })
    .add('GET', '/providers/proxies/:name/:proxy/healthcheck', { handle: noHealthCheck })
    .add('GET', '/providers/rules', { handle: providersOf('rule') })
    .add('PUT', '/providers/rules/:name', { handle: updateRuleProvider });
}
