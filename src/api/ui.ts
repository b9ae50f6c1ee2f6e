/** external-ui: static files at /ui/, never outside the folder (encoded `..`, symlinks, NUL). */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { MESSAGES, sendError } from './http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

function within(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Serves `rawPath` (the request path after `/ui/`, still percent-encoded) from `dir`. A path
 * that decodes to anything leaving the folder, through `..` or a symlink, is 404 like a missing file.
 */
export async function serveUi(req: IncomingMessage, res: ServerResponse, dir: string, rawPath: string): Promise<void> {
  const notFound = () => sendError(res, 404, MESSAGES.notFound);
  let rel: string;
  try {
    rel = decodeURIComponent(rawPath);
  } catch {
    return notFound();
  }
  if (rel.includes('\0') || rel.includes('\\')) return notFound();
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    return notFound();
  }
  let file = join(root, rel);
  if (!within(root, file)) return notFound();
  try {
    file = await realpath(file);
    if (!within(root, file)) return notFound(); // a symlink out of the folder
    let st = await stat(file);
    if (st.isDirectory()) {
      file = await realpath(join(file, 'index.html'));
      if (!within(root, file)) return notFound();
      st = await stat(file);
    }
    if (!st.isFile()) return notFound();
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const s = createReadStream(file);
    s.on('error', () => res.destroy());
    s.pipe(res);
  } catch {
    return notFound();
  }
}
