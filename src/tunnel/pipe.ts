import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Where the relay adds the bytes it moves; the tracker's connection record implements it. */
export interface ByteCounter {
  /** client → remote */
  upload: number;
  /** remote → client */
  download: number;
}

/** Options of one relay. */
export interface PipeOptions {
  /** destroy both legs after this long with no bytes either way (0 = never) */
  readonly idleTimeoutMs: number;
  /** called once (as a method of these options), when both legs are closed; `err` is the
   * first error seen, if any */
  onClose?(err: Error | undefined): void;
}

/**
 * Relays bytes between `client` and `remote` until both are done: backpressure both ways,
 * half-close passed through (FIN from one side ends the other's writable side), either leg's
 * error or abrupt close destroys the other, an idle timeout, and byte counters.
 * The one relay of the project: every TCP tunnel goes through here.
 */
export function pipe(client: Duplex, remote: Duplex, counter: ByteCounter, opts: PipeOptions): void {
  new Relay(client, remote, counter, opts);
}

/** Per-connection state with handlers bound once (no closures per chunk). */
class Relay {
  readonly #client: Duplex;
  readonly #remote: Duplex;
  readonly #counter: ByteCounter;
  readonly #opts: PipeOptions;
  #error: Error | undefined;
  #clientClosed = false;
  #remoteClosed = false;
  #timer: NodeJS.Timeout | undefined;
  #idleMs = 0;
  #active = false;

  constructor(client: Duplex, remote: Duplex, counter: ByteCounter, opts: PipeOptions) {
    this.#client = client;
    this.#remote = remote;
    this.#counter = counter;
    this.#opts = opts;

    client.on('data', this.#onClientData);
    remote.on('data', this.#onRemoteData);
    client.on('drain', this.#resumeRemote);
    remote.on('drain', this.#resumeClient);
    client.on('end', this.#onClientEnd);
    remote.on('end', this.#onRemoteEnd);
    client.on('error', this.#onError);
    remote.on('error', this.#onError);
    client.on('close', this.#onClientClose);
    remote.on('close', this.#onRemoteClose);
    this.#armIdle(opts.idleTimeoutMs);

    // A leg that ended or died before the relay started will not emit 'end' / 'close' again
    // (a FIN right behind the request can be read while the handshake still runs).
    if (client.readableEnded) this.#onClientEnd();
    if (remote.readableEnded) this.#onRemoteEnd();
    if (client.closed) this.#onClientClose();
    if (remote.closed) this.#onRemoteClose();
  }

  /** Sockets reset their own timeout on every read and write, which is free; other Duplexes
   * get a coarse timer that checks an activity flag. */
  #armIdle(ms: number): void {
    if (ms <= 0) return;
    const sock = this.#client instanceof Socket ? this.#client : this.#remote instanceof Socket ? this.#remote : undefined;
    if (sock) {
      sock.setTimeout(ms, this.#onIdle);
      return;
    }
    this.#idleMs = ms;
    this.#timer = setTimeout(this.#checkIdle, ms);
    this.#timer.unref();
  }

  #checkIdle = (): void => {
    if (this.#active) {
      this.#active = false;
      this.#timer = setTimeout(this.#checkIdle, this.#idleMs);
      this.#timer.unref();
    } else this.#onIdle();
  };

  #onIdle = (): void => {
    this.#client.destroy();
    this.#remote.destroy();
  };

  #onClientData = (chunk: Buffer): void => {
    this.#counter.upload += chunk.length;
    this.#active = true;
    if (!this.#remote.write(chunk)) this.#client.pause();
  };

  #onRemoteData = (chunk: Buffer): void => {
    this.#counter.download += chunk.length;
    this.#active = true;
    if (!this.#client.write(chunk)) this.#remote.pause();
  };

  #resumeClient = (): void => {
    this.#client.resume();
  };

  #resumeRemote = (): void => {
    this.#remote.resume();
  };

  #onClientEnd = (): void => {
    if (!this.#remote.destroyed) this.#remote.end();
  };

  #onRemoteEnd = (): void => {
    if (!this.#client.destroyed) this.#client.end();
  };

  #onError = (err: Error): void => {
    this.#error ??= err;
  };

  #onClientClose = (): void => {
    if (this.#clientClosed) return;
    this.#clientClosed = true;
    this.#legClosed(this.#client, this.#remote);
  };

  #onRemoteClose = (): void => {
    if (this.#remoteClosed) return;
    this.#remoteClosed = true;
    this.#legClosed(this.#remote, this.#client);
  };

  /** A leg that closed before both its directions finished cleanly takes the other one down. */
  #legClosed(leg: Duplex, other: Duplex): void {
    const clean = leg.readableEnded && leg.writableFinished && !this.#error;
    if (!clean && !other.destroyed) {
      // pass a failure on as a failure: a reset, not a clean FIN the peer could take for EOF
      if (this.#error && other instanceof Socket) other.resetAndDestroy();
      else other.destroy();
    }
    if (this.#clientClosed && this.#remoteClosed) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#opts.onClose?.(this.#error);
    }
  }
}
