/** /rules (mihomo's hub/route/rules.go). */
import { sendJson } from '../http.js';
import type { Router } from '../router.js';
import { rulesJson } from '../shapes.js';

export function ruleRoutes(router: Router): void {
  router.add('GET', '/rules', { handle: (r) => sendJson(r.res, 200, rulesJson(r.api.control.rules())) });
}
