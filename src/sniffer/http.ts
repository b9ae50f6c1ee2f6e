import { fail, hostOrFail, more, type SniffResult } from './result.js';

/** The request methods mihomo recognises (Go's net/http list), matched in any case. */
const METHODS = ['get', 'post', 'head', 'put', 'delete', 'options', 'connect', 'patch', 'trace'];
/** The most of a request head we wait for before giving up on finding `Host`. */
export const HTTP_MAX_PEEK = 8 * 1024;

/**
 * The Host header of an HTTP/1 request at the start of a TCP stream, lower-cased and without
 * its port. `more` while the head is still arriving and no Host line has been seen yet; a Host
 * that is an IP literal is a failure (the destination already says it), as mihomo.
 */
export function sniffHttp(buf: Buffer): SniffResult {
  const m = methodOf(buf);
  if (m !== 'ok') return m;
  let start = buf.indexOf(0x0a); // the request line ends here
  if (start < 0) return buf.length >= HTTP_MAX_PEEK ? fail('request head too large') : more(buf.length + 1);
  start++;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    let end = nl;
    if (end > start && buf[end - 1] === 0x0d) end--;
    if (end === start) return fail('no host header'); // the blank line: end of the head
    const colon = buf.indexOf(0x3a, start);
    if (colon > start && colon < end && colon - start <= 16 && buf.toString('latin1', start, colon).trim().toLowerCase() === 'host') {
      return hostOfHeader(buf.toString('latin1', colon + 1, end).trim().toLowerCase());
    }
    start = nl + 1;
  }
  if (buf.length >= HTTP_MAX_PEEK) return fail('request head too large');
  return more(buf.length + 1);
}

/** 'ok' when `buf` starts with a method; `more` while it could still become one. */
function methodOf(buf: Buffer): 'ok' | SniffResult {
  let maybe = false;
  for (const m of METHODS) {
    const n = Math.min(m.length, buf.length);
    let same = true;
    for (let i = 0; i < n && same; i++) same = (buf[i] | 0x20) === m.charCodeAt(i); // ASCII letters, any case
    if (!same) continue;
    if (n === m.length) return 'ok';
    maybe = true;
  }
  return maybe || buf.length === 0 ? more(Math.max(1, buf.length + 1)) : fail('not an HTTP method');
}

/** `host`, `host:port`, `[v6]:port`: the name, refused when it is an IP. */
function hostOfHeader(v: string): SniffResult {
  if (v.startsWith('[')) return fail('host is ip');
  const colon = v.lastIndexOf(':');
  if (colon >= 0 && v.indexOf(':') === colon) {
    const port = v.slice(colon + 1);
    if (!/^\d{0,5}$/.test(port)) return fail('invalid host');
    v = v.slice(0, colon);
  }
  return hostOrFail(v);
}
