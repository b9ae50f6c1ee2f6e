/**
 * One fake-ip pool for the whole cluster. The primary runs the DNS listener, and its pools are
 * the only ones that hand out addresses; each new mapping is queued here and copied to every
 * worker (`fake-ip` messages) before the answer that carries it leaves, so the client's next
 * connection to that address maps back to its name in whichever worker accepts it.
 */

/** How long an answer waits for the workers to confirm its mappings at most. */
export const SETTLE_TIMEOUT_MS = 1000;

/** Mappings sent to the workers in one message at most. */
const BATCH = 4096;

export class FakeIpSync {
  #queue: [string, string][] = [];
  /** settles when every batch sent so far was confirmed (or timed out) */
  #sent: Promise<void> = Promise.resolve();
  #send: ((entries: [string, string][]) => Promise<void>) | undefined;

  /** Where batches go: every worker, resolving once each confirmed. Until set, nothing is sent. */
  attach(send: (entries: [string, string][]) => Promise<void>): void {
    this.#send = send;
  }

  /** A pool handed `ip` to `domain` (FakeIpPool.onAssign). */
  assigned(ip: string, domain: string): void {
    if (!this.#send) return; // no workers yet: each gets the whole mapping when it starts
    this.#queue.push([ip, domain]);
  }

  /** Resolves once every mapping handed out so far is in every worker (bounded by {@link SETTLE_TIMEOUT_MS}). */
  settle(): Promise<void> {
    const send = this.#send;
    if (send && this.#queue.length > 0) {
      const batches: [string, string][][] = [];
      while (this.#queue.length > 0) batches.push(this.#queue.splice(0, BATCH));
      const done = Promise.all(batches.map((b) => bounded(send(b)))).then(() => undefined);
      const before = this.#sent;
      this.#sent = Promise.all([before, done]).then(() => undefined);
    }
    return this.#sent;
  }

  /** Forgets what is queued (a flush or a full copy supersedes it). */
  clear(): void {
    this.#queue = [];
  }
}

function bounded(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SETTLE_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}
