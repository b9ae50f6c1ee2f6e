import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiContext } from './context.js';
import type { StreamSink } from './streams.js';

/** What a handler gets: the request, its URL and path parameters (already decoded), the API's context. */
export interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly api: ApiContext;
}

export type Handler = (r: Request) => void | Promise<void>;

/** Feeds a stream (chunked JSON lines or WebSocket text frames); returns its cleanup. */
export type StreamRequest = Omit<Request, 'res'>;

export type StreamHandler = (r: StreamRequest, sink: StreamSink) => (() => void) | undefined;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Route {
  readonly method: Method;
  readonly parts: readonly string[];
  /** a plain request */
  readonly handle?: Handler;
  /** a WebSocket upgrade; also a plain GET when there is no `handle` (chunked lines) */
  readonly stream?: StreamHandler;
  /** throws ApiError for a bad query before a stream starts (mihomo answers 400 before upgrading) */
  readonly check?: (url: URL) => void;
}

/** The match of a path: the route of the method, or whether another method would have matched. */
export type Match = { route: Route; params: Record<string, string> } | { route: undefined; otherMethod: boolean };

/** Routes by method and path; `:name` segments are parameters (percent-decoded once, as mihomo). */
export class Router {
  readonly #routes: Route[] = [];

  add(method: Method, pattern: string, h: { handle?: Handler; stream?: StreamHandler; check?: (url: URL) => void }): this {
    this.#routes.push({ method, parts: split(pattern), ...h });
    return this;
  }

  match(method: string, path: string): Match {
    const parts = split(path);
    let otherMethod = false;
    for (const r of this.#routes) {
      const params = matchParts(r.parts, parts);
      if (!params) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { route: r, params };
      otherMethod = true;
    }
    return { route: undefined, otherMethod };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

function matchParts(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(':')) {
      let v = parts[i];
      try {
        v = decodeURIComponent(v);
      } catch {
        // a malformed escape stays as written (mihomo does the same)
      }
      params[p.slice(1)] = v;
    } else if (p !== parts[i]) return undefined;
  }
  return params;
}
