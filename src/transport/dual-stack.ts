import { connect, type Socket } from 'node:net';
import { errorMessage, ProxyError } from '../core/errors.js';

/** One address family's candidates in a connect race. */
export interface RaceGroup {
  /** IP literals of one family, tried one after another */
  readonly ips: readonly string[];
  /** a primary group's success wins at once; a fallback's waits out the fallback delay */
  readonly primary: boolean;
}

// Go's default TCP keep-alive idle time, which mihomo inherits.
const KEEPALIVE_MS = 15_000;

/**
 * Starts connecting to an IP literal with the options every outgoing TCP socket of ours has:
 * half-open allowed (the relay forwards FIN each way on its own), Nagle off, keep-alive on.
 */
export function openSocket(ip: string, port: number): Socket {
  return connect({ host: ip, port, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS });
}

/**
 * Opens one TCP connection to an IP literal ({@link openSocket}). An abort destroys the half-made
 * socket, so no descriptor outlives the dial. Rejects with the socket's own error (`.code`
 * ECONNREFUSED…) or with `signal.reason`.
 */
export function connectOne(ip: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const sock = openSocket(ip, port);
    const cleanup = () => {
      sock.removeListener('connect', onConnect);
      sock.removeListener('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      resolve(sock);
    };
    const onError = (err: Error) => {
      cleanup();
      sock.destroy();
      reject(err);
    };
    const onAbort = () => {
      cleanup();
      sock.destroy();
      reject(signal.reason);
    };
    sock.once('connect', onConnect);
    sock.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Tries `ips` in order; the first that connects wins. Every failure is pushed to `errors`. */
async function serial(ips: readonly string[], port: number, signal: AbortSignal, errors: unknown[]): Promise<Socket> {
  for (const ip of ips) {
    try {
      return await connectOne(ip, port, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      errors.push(err);
    }
  }
  throw errors[errors.length - 1];
}

/**
 * mihomo's dual-stack connect: each group (family) walks its IPs serially, the groups race in
 * parallel. A primary group's connection is taken at once; a fallback group's connection is
 * held until `fallbackDelayMs` after the start (the preferred family's head start) or until
 * every primary failed. Losers are aborted and their sockets destroyed.
 * Rejects with DIAL_FAILED naming `label`, primary errors first, `cause` the first of them;
 * or with `signal.reason` when aborted.
 */
export function connectAny(
  label: string,
  groups: readonly RaceGroup[],
  port: number,
  fallbackDelayMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const racers = groups.map((g) => ({ ...g, ctl: new AbortController(), errors: [] as unknown[], settled: false }));
    const start = Date.now();
    let pending = racers.length;
    let done = false;
    let held: Socket | undefined;
    let holdTimer: NodeJS.Timeout | undefined;
    // A parked fallback socket must have its 'error' owned; the race notices via `destroyed`.
    let onParkedError: ((err: Error) => void) | undefined;

    const finish = (sock: Socket | undefined, err?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(holdTimer);
      signal.removeEventListener('abort', onAbort);
      // only racers still dialing need stopping: abort() builds an exception, on every dial
      for (const r of racers) if (!r.settled) r.ctl.abort();
      if (held && held !== sock) held.destroy();
      if (sock) {
        if (onParkedError) sock.removeListener('error', onParkedError);
        resolve(sock);
      } else {
        reject(err);
      }
    };
    const onAbort = () => finish(undefined, signal.reason);
    const settleIfAllDone = () => {
      if (pending > 0) return;
      if (held && !held.destroyed) finish(held);
      else finish(undefined, failure(label, racers));
    };
    if (signal.aborted) {
      finish(undefined, signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    for (const r of racers) {
      serial(r.ips, port, r.ctl.signal, r.errors).then(
        (sock) => {
          pending--;
          r.settled = true;
          if (done) {
            sock.destroy(); // connected in the same tick the race was decided
            return;
          }
          if (r.primary) {
            finish(sock);
            return;
          }
          held = sock;
          onParkedError = (err) => void r.errors.push(err);
          sock.on('error', onParkedError);
          const wait = start + fallbackDelayMs - Date.now();
          if (pending === 0 || wait <= 0) finish(sock);
          else holdTimer = setTimeout(() => (sock.destroyed ? settleIfAllDone() : finish(sock)), wait);
        },
        () => {
          pending--;
          r.settled = true;
          if (!done) settleIfAllDone();
        },
      );
    }
  });
}

function failure(label: string, racers: readonly { primary: boolean; errors: unknown[] }[]): ProxyError {
  const ordered = [...racers.filter((r) => r.primary), ...racers.filter((r) => !r.primary)].flatMap((r) => r.errors);
  const text = ordered.length > 0 ? ordered.map(errorMessage).join('; ') : 'no IP address';
  return new ProxyError('DIAL_FAILED', `dial tcp ${label}: ${text}`, { cause: ordered[0] });
}
