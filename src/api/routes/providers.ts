/** /providers/proxies and /providers/rules (mihomo's hub/route/provider.go). */
import type { ControlPlane, ProviderView } from '../../core/control-plane.js';
import { errorMessage } from '../../core/errors.js';
import { ApiError, MESSAGES, noContent, sendJson } from '../http.js';
import type { Handler, Router } from '../router.js';
import { proxyJson } from '../shapes.js';
import { delayOrFail, delayTest } from './proxies.js';

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
    out.testUrl = p.testUrl ?? '';
    out.expectedStatus = p.expectedStatus ?? '*';
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

/** mihomo: the provider's health check runs (every proxy, its health-check URL), then 204. */
const healthCheckProvider: Handler = async (r) => {
  find(r.api.control, 'proxy', r.params.name);
  if (!(await r.api.control.healthCheckProvider(r.params.name))) throw new ApiError(404, MESSAGES.notFound);
  noContent(r.res);
};

/** mihomo: one proxy of the provider tested as GET /proxies/:name/delay (url, timeout, expected). */
const providerProxyDelay: Handler = async (r) => {
  const p = find(r.api.control, 'proxy', r.params.name);
  if (!(p.proxies ?? []).includes(r.params.proxy)) throw new ApiError(404, MESSAGES.notFound);
  const test = delayTest(r.url, 32767);
  sendJson(r.res, 200, { delay: await delayOrFail(() => r.api.control.providerProxyDelay(p.name, r.params.proxy, test)) });
};

export function providerRoutes(router: Router): void {
  router
    .add('GET', '/providers/proxies', { handle: providersOf('proxy') })
    .add('GET', '/providers/proxies/:name', { handle: oneProxyProvider })
    .add('PUT', '/providers/proxies/:name', { handle: updateProxyProvider })
    .add('GET', '/providers/proxies/:name/healthcheck', { handle: healthCheckProvider })
    .add('GET', '/providers/proxies/:name/:proxy', { handle: providerProxy })
    .add('GET', '/providers/proxies/:name/:proxy/healthcheck', { handle: providerProxyDelay })
    .add('GET', '/providers/rules', { handle: providersOf('rule') })
    .add('PUT', '/providers/rules/:name', { handle: updateRuleProvider });
}
