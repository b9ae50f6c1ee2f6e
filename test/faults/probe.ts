// What the fault tests measure from outside the CLI process: its fds (/proc), its controller's
// connection list, its RSS; plus the hashed byte sources and sinks they drive traffic with.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp home dir (-d) for one CLI run. */
export function tempHome(tag: string): string {
  return mkdtempSync(join(tmpdir(), `clash-ts-faults-${tag}-`));
}

/** Open fds of `pid`, from /proc. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid` in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The number of connections the controller at 127.0.0.1:`port` lists. */
export async function liveConnections(port: number): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/connections`);
  const body = (await r.json()) as { connections: unknown[] | null };
  return body.connections?.length ?? 0;
}

/** Polls `probe` every 100 ms until it returns `want` or `timeoutMs` passed; returns the last value. */
export async function settle<T>(probe: () => T | Promise<T>, want: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (want(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The deterministic byte at `offset` of every test stream (so any prefix can be checked). */
export function patternByte(offset: number): number {
  return (offset * 31 + 7) & 0xff;
}

/** `n` pattern bytes from `offset`. */
export function pattern(offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = patternByte(offset + i);
  return b;
}

/** sha256 of a buffer, hex. */
export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Reads a socket to its end (or close), bounded by `timeoutMs`; resolves with what came and how it ended. */
export function drain(sock: net.Socket, timeoutMs: number): Promise<{ bytes: Buffer; how: 'end' | 'close' | 'timeout' }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const finish = (how: 'end' | 'close' | 'timeout'): void => {
      clearTimeout(t);
      sock.off('data', onData);
      resolve({ bytes: Buffer.concat(parts), how });
    };
    const onData = (c: Buffer): void => void parts.push(c);
    const t = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('data', onData);
    sock.once('end', () => finish('end'));
    sock.once('close', () => finish('close'));
  });
}

/** A local TCP server; `onConn` gets each socket (allowHalfOpen). Closes every socket on close(). */
export async function tcpServer(onConn: (s: net.Socket) => void, host = '127.0.0.1', port = 0): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Echoes `bytes` through `sock`: writes them, reads as many back (or until the socket ends or
 * `timeoutMs` passes), then closes. No FIN before the echo is complete: ss-server and trojan-gfw
 * end a whole session on a client's FIN.
 */
export function echoThrough(sock: net.Socket, bytes: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    const finish = (): void => {
      clearTimeout(t);
      sock.off('data', onData);
      sock.destroy();
      resolve(Buffer.concat(parts));
    };
    const onData = (c: Buffer): void => {
      parts.push(c);
      n += c.length;
      if (n >= bytes.length) finish();
    };
    const t = setTimeout(finish, timeoutMs);
    sock.on('data', onData);
    sock.once('close', finish);
    sock.write(bytes);
  });
}
