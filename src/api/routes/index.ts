import { Router } from '../router.js';
import { configRoutes } from './configs.js';
import { connectionRoutes } from './connections.js';
import { dnsRoutes } from './dns.js';
import { metricsRoutes } from './metrics.js';
import { providerRoutes } from './providers.js';
import { proxyRoutes } from './proxies.js';
import { ruleRoutes } from './rules.js';
import { storageRoutes } from './storage.js';
import { systemRoutes } from './system.js';
import { telemetryRoutes } from './telemetry.js';

/** Every route of the controller (mihomo's hub/route, plus /metrics). */
export function routes(): Router {
  const r = new Router();
  for (const add of [systemRoutes, configRoutes, proxyRoutes, connectionRoutes, telemetryRoutes, ruleRoutes, providerRoutes, dnsRoutes, storageRoutes, metricsRoutes]) add(r);
  return r;
}
