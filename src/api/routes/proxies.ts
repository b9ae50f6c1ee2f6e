/** /proxies and /group (mihomo's hub/route/proxies.go and groups.go). */
import type { DelayTest, ProxyView } from '../../core/control-plane.js';
import { hasCode, ProxyError, errorMessage } from '../../core/errors.js';
import { ApiError, MESSAGES, noContent, readJson, sendJson } from '../http.js';
import type { Request, Router } from '../router.js';
import { proxiesJson, proxyJson } from '../shapes.js';

function found(r: Request): ProxyView {
  const p = r.api.control.proxy(r.params.name);
  if (!p) throw new ApiError(404, MESSAGES.notFound);
  return p;
}

function foundGroup(r: Request): ProxyView {
  const p = found(r);
  if (p.all === undefined) throw new ApiError(404, MESSAGES.notFound);
  return p;
}

/** url, timeout (ms, an integer up to `maxTimeout`) and expected from the query; 400 when malformed. */
export function delayTest(url: URL, maxTimeout: number): DelayTest {
  const t = url.searchParams.get('timeout') ?? '';
  const timeoutMs = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs > maxTimeout || timeoutMs < -maxTimeout - 1) throw new ApiError(400, MESSAGES.badRequest);
  const expected = url.searchParams.get('expected') ?? '';
  return { url: url.searchParams.get('url') ?? '', timeoutMs: Math.max(0, timeoutMs), ...(expected !== '' && { expected }) };
}

/** A URL test failure as mihomo answers it. */
export function delayFailure(err: unknown, fallback: number): ApiError {
  if (hasCode(err, 'CONFIG')) return new ApiError(400, MESSAGES.badRequest);
  if (hasCode(err, 'DIAL_TIMEOUT')) return new ApiError(504, MESSAGES.timeout);
  if (fallback === 504) return new ApiError(504, err instanceof ProxyError ? err.message : errorMessage(err));
  return new ApiError(503, 'An error occurred in the delay test');
}

/** mihomo's SelectAble groups (PUT /proxies/:name takes a member) */
const SELECTABLE = new Set(['Selector', 'URLTest', 'Fallback']);

/** Runs one URL test as mihomo's getProxyDelay answers it: the delay, else an ApiError (404 for no such proxy). */
export async function delayOrFail(run: () => Promise<number | undefined>): Promise<number> {
  let delay: number | undefined;
  try {
    delay = await run();
  } catch (err) {
    throw delayFailure(err, 503);
  }
  if (delay === undefined) throw new ApiError(404, MESSAGES.notFound);
  if (delay === 0) throw new ApiError(503, 'An error occurred in the delay test');
  return delay;
}

export function proxyRoutes(router: Router): void {
  router
    .add('GET', '/proxies', { handle: (r) => sendJson(r.res, 200, proxiesJson(r.api.control.proxies())) })
    .add('GET', '/proxies/:name', { handle: (r) => sendJson(r.res, 200, proxyJson(found(r))) })
    .add('PUT', '/proxies/:name', {
      async handle(r) {
        const p = found(r);
        const body = await readJson(r.req);
        const name = typeof body === 'object' && body !== null ? (body as { name?: unknown }).name : undefined;
        if (typeof name !== 'string') throw new ApiError(400, MESSAGES.badRequest);
        // mihomo's SelectAble groups: a select group switches; url-test and fallback fix the member
        if (p.all === undefined || !SELECTABLE.has(p.type)) throw new ApiError(400, 'Must be a Selector');
        if (!(await r.api.control.select(p.name, name))) throw new ApiError(400, `Selector update error: proxy not exist`);
        noContent(r.res);
      },
    })
    // mihomo: DELETE clears the member fixed on a url-test / fallback group; anything else is 400
    .add('DELETE', '/proxies/:name', {
      async handle(r) {
        const p = found(r);
        if (p.type === 'Selector' || !(await r.api.control.unfix(p.name))) throw new ApiError(400, MESSAGES.badRequest);
        noContent(r.res);
      },
    })
    .add('GET', '/proxies/:name/delay', {
      async handle(r) {
        const p = found(r);
        const test = delayTest(r.url, 32767);
        sendJson(r.res, 200, { delay: await delayOrFail(() => r.api.control.delay(p.name, test)) });
      },
    })
    .add('GET', '/group', { handle: (r) => sendJson(r.res, 200, { proxies: r.api.control.proxies().filter((p) => p.all !== undefined).map(proxyJson) }) })
    .add('GET', '/group/:name', { handle: (r) => sendJson(r.res, 200, proxyJson(foundGroup(r))) })
    .add('GET', '/group/:name/delay', {
      async handle(r) {
        const g = foundGroup(r);
        const test = delayTest(r.url, 2 ** 31 - 1);
        let out: Record<string, number> | undefined;
        try {
          out = await r.api.control.groupDelay(g.name, test);
        } catch (err) {
          throw delayFailure(err, 504);
        }
        if (out === undefined) throw new ApiError(404, MESSAGES.notFound);
        sendJson(r.res, 200, out);
      },
    });
}
