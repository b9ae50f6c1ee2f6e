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
 * Bytes one direction of one relay may move in one event-loop turn before it yields: past it,
 * the source pauses and resumes on the next turn (setImmediate), so a bulk leg cannot spend a
 * whole poll phase (libuv reads up to 32 x 64 KiB per socket per turn, and each read runs its
 * decrypt + write synchronously) while small flows and accepts wait. 0 disables the budget
 * (`CLASH_TS_RELAY_BUDGET=0`, the bench's A/B switch); any other value overrides the default.
 */
export const RELAY_BUDGET = budgetFromEnv(process.env.CLASH_TS_RELAY_BUDGET, 128 << 10);

function budgetFromEnv(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

/**
 * The event-loop turn, as one shared counter: the first relay that moves bytes in a turn arms
 * one setImmediate for every relay, which starts the next turn and resumes the relays that
 * yielded in this one. Per turn that is one immediate in all, never one per chunk or per relay.
 */
let turn = 0;
let armed = false;
const yielded: Relay[] = [];

function nextTurn(): void {
  armed = false;
  turn++;
  // relays that yield again while this runs wait for the following turn
  const n = yielded.length;
  for (let i = 0; i < n; i++) (yielded[i] as Relay).budgetResume();
  yielded.splice(0, n);
}

/**
 * Relays bytes between `client` and `remote` until both are done: backpressure both ways,
 * half-close passed through (FIN from one side ends the other's writable side), either leg's
 * error or abrupt close destroys the other, an idle timeout, and byte counters; each direction
 * moves at most {@link RELAY_BUDGET} bytes per event-loop turn (fairness between relays).
 * The one relay of the project: every TCP tunnel goes through here.
 */
export function pipe(client: Duplex, remote: Duplex, counter: ByteCounter, opts: PipeOptions, budget = RELAY_BUDGET): void {
  new Relay(client, remote, counter, opts, budget);
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
  readonly #budget: number;
  /** the turn the two byte counts below belong to */
  #turn = -1;
  #upTurn = 0;
  #downTurn = 0;
  /** a source paused because its destination asked to wait for 'drain' */
  #clientAwaitsDrain = false;
  #remoteAwaitsDrain = false;
  /** a source paused because its direction spent this turn's budget */
  #clientYielded = false;
  #remoteYielded = false;

  constructor(client: Duplex, remote: Duplex, counter: ByteCounter, opts: PipeOptions, budget: number) {
    this.#budget = budget;
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

  /** Starts this relay's count for the current turn; arms the shared turn if nobody has. */
  #sameTurn(): void {
    if (this.#turn === turn) return;
    this.#turn = turn;
    this.#upTurn = 0;
    this.#downTurn = 0;
    if (!armed) {
      armed = true;
      setImmediate(nextTurn);
    }
  }

  #onClientData = (chunk: Buffer): void => {
    this.#counter.upload += chunk.length;
    this.#active = true;
    if (!this.#remote.write(chunk)) {
      this.#clientAwaitsDrain = true;
      this.#client.pause();
    }
    if (this.#budget === 0) return;
    this.#sameTurn();
    if ((this.#upTurn += chunk.length) >= this.#budget && !this.#clientYielded) {
      this.#clientYielded = true;
      this.#client.pause();
      yielded.push(this);
    }
  };

  #onRemoteData = (chunk: Buffer): void => {
    this.#counter.download += chunk.length;
    this.#active = true;
    if (!this.#client.write(chunk)) {
      this.#remoteAwaitsDrain = true;
      this.#remote.pause();
    }
    if (this.#budget === 0) return;
    this.#sameTurn();
    if ((this.#downTurn += chunk.length) >= this.#budget && !this.#remoteYielded) {
      this.#remoteYielded = true;
      this.#remote.pause();
      yielded.push(this);
    }
  };

  /** The next turn began: a yielded source reads again unless it still waits for 'drain'. */
  budgetResume(): void {
    if (this.#clientYielded) {
      this.#clientYielded = false;
      if (!this.#clientAwaitsDrain && !this.#client.destroyed) this.#client.resume();
    }
    if (this.#remoteYielded) {
      this.#remoteYielded = false;
      if (!this.#remoteAwaitsDrain && !this.#remote.destroyed) this.#remote.resume();
    }
  }

  /** 'drain' from the remote: the client's data may flow again, unless it yielded this turn. */
  #resumeClient = (): void => {
    this.#clientAwaitsDrain = false;
    if (!this.#clientYielded) this.#client.resume();
  };

  #resumeRemote = (): void => {
    this.#remoteAwaitsDrain = false;
    if (!this.#remoteYielded) this.#remote.resume();
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
