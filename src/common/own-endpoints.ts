import type { Server } from 'node:net';

/**
 * The TCP ports this process listens on (every listener, the REST controller), so the loop
 * guard (tunnel/loop-guard.ts) can tell a connection to ourselves. Process-wide: two cores in
 * one process (tests) are each other's "self" too, which only makes the guard stricter.
 */
const ports = new Map<number, number>();

/** Whether some server of ours listens on `port` (one Map lookup: the hot path's cost). */
export function isOwnPort(port: number): boolean {
  return ports.has(port);
}

/** Counts `server`'s port as ours from 'listening' until 'close'. */
export function watchOwnServer(server: Server): void {
  let port: number | undefined;
  server.on('listening', () => {
    const a = server.address();
    if (a === null || typeof a === 'string') return;
    port = a.port;
    ports.set(port, (ports.get(port) ?? 0) + 1);
  });
  server.on('close', () => {
    if (port === undefined) return;
    const n = (ports.get(port) ?? 1) - 1;
    if (n <= 0) ports.delete(port);
    else ports.set(port, n);
    port = undefined;
  });
}
