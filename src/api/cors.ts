import type { IncomingMessage, ServerResponse } from 'node:http';

/** external-controller-cors */
export interface CorsSettings {
  /** `*` allows every origin */
  readonly allowOrigins: readonly string[];
  readonly allowPrivateNetwork: boolean;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const HEADERS = ['content-type', 'authorization'];
const MAX_AGE = '300';

function originAllowed(origin: string, cors: CorsSettings): boolean {
  return cors.allowOrigins.some((o) => o === '*' || o.toLowerCase() === origin.toLowerCase());
}

function allowOriginValue(origin: string, cors: CorsSettings): string {
  return cors.allowOrigins.includes('*') ? '*' : origin;
}

/**
 * Answers a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method): 204, with the
 * allow headers only when the origin, method and headers are allowed. Returns false for any
 * other request.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, cors: CorsSettings): boolean {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || origin === undefined || method === undefined) return false;
  res.setHeader('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  const wanted = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const ok = originAllowed(origin, cors) && METHODS.includes(method.toUpperCase()) && wanted.every((h) => HEADERS.includes(h) || h === 'origin');
  if (ok) {
    res.setHeader('Access-Control-Allow-Origin', allowOriginValue(origin, cors));
    res.setHeader('Access-Control-Allow-Methods', method.toUpperCase());
    if (wanted.length > 0) res.setHeader('Access-Control-Allow-Headers', wanted.join(', '));
    res.setHeader('Access-Control-Max-Age', MAX_AGE);
    if (cors.allowPrivateNetwork && req.headers['access-control-request-private-network'] === 'true') {
      res.setHeader('Access-Control-Allow-Private-Network', 'true');
    }
  }
  res.writeHead(204);
  res.end();
  return true;
}

/** Sets the CORS headers of an actual request from an allowed origin. */
export function applyCors(req: IncomingMessage, res: ServerResponse, cors: CorsSettings): void {
  const origin = req.headers.origin;
  res.setHeader('Vary', 'Origin');
  if (origin === undefined || !originAllowed(origin, cors)) return;
  res.setHeader('Access-Control-Allow-Origin', allowOriginValue(origin, cors));
}
