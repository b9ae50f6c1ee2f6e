import type { IncomingMessage, ServerResponse } from 'node:http';

/** mihomo's error texts (hub/route/errors.go), by meaning. */
export const MESSAGES = {
  unauthorized: 'Unauthorized',
  badRequest: 'Body invalid',
  forbidden: 'Forbidden',
  notFound: 'Resource not found',
  timeout: 'Timeout',
} as const;

/** A failure a handler throws: answered as `{"message": …}` with `status`. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The default bound of a request body (PUT /configs takes more: a config can be large). */
export const BODY_LIMIT = 1 << 20;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { message });
}

export function noContent(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(204);
  res.end();
}

/**
 * Reads the body up to `limit` bytes. Past it: ApiError 400, the rest discarded and the socket
 * closed after the answer (a client that keeps sending is cut off after a few seconds).
 */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        req.socket.setTimeout(3000, () => req.socket.destroy());
        reject(new ApiError(400, `request body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => reject(err));
  });
}

/** Reads a JSON body; 400 with mihomo's "Body invalid" when it is not JSON. An empty body is `{}`. */
export async function readJson(req: IncomingMessage, limit = BODY_LIMIT): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new ApiError(400, MESSAGES.badRequest);
  }
}
