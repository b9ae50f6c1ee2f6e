import { createHash } from 'node:crypto';
import { readFile, stat, utimes } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../common/log.js';
import { errorMessage } from '../core/errors.js';
import type { Outbound } from '../core/outbound.js';
import type { TlsOptions } from '../transport/tls.js';
import { fetchThrough } from './fetch.js';
import { writeAtomic } from '../common/write-atomic.js';

/** mihomo's timeout of one provider fetch. */
export const DEFAULT_FETCH_TIMEOUT_MS = 20_000;

/** The largest validators file read back (ours are a few hundred bytes). */
const MAX_VALIDATORS_BYTES = 64 * 1024;

/** Where a copy comes from: a provider entry's vehicle settings. */
export interface CopySource {
  /** the provider's name, in log lines */
  readonly name: string;
  readonly type: 'file' | 'http' | 'inline';
  readonly url?: string;
  /** the outbound an http fetch goes through (DIRECT when absent) */
  readonly proxy?: string;
  readonly header: Readonly<Record<string, readonly string[]>>;
  readonly intervalSec: number;
  /** bytes; 0 = the owner's default */
  readonly sizeLimit: number;
}

/** What a copy fetches and logs with: the generation's, as a provider receives them. */
export interface CopyEnv {
  readonly log: Logger;
  /** the generation's outbounds, for `proxy` */
  readonly lookup: (name: string) => Outbound | undefined;
  readonly fetchTimeoutMs?: number;
  /** extra trust anchors for https (tests) */
  readonly ca?: TlsOptions['ca'];
}

/** What the owner does with a payload. */
export interface CopyHandlers {
  /** the size limit when the source sets none; 0 = none */
  readonly defaultSizeLimit: number;
  /**
   * Parses a payload that differs from the one loaded and swaps it in; throws when it cannot
   * be used (the previous set stays, the copy's hash and validators are not taken).
   */
  readonly apply: (body: Buffer, source: 'file' | 'fetch') => void;
  /** every answer's headers, a 304 included (subscription-userinfo) */
  readonly onHeaders?: (headers: IncomingHttpHeaders) => void;
}

/**
 * The life of a provider's payload, proxy- and rule-providers alike: the copy on disk read
 * first; an http source fetched conditionally (If-None-Match with the ETag, If-Modified-Since
 * with Last-Modified or the copy's time), a 304 keeping the set and touching the copy, a new
 * payload applied and written atomically with its validators beside it (`<copy>.meta.json`,
 * naming the copy's hash, so a restart asks conditionally too); a payload equal to the loaded
 * one is not applied again. Updates run one at a time, each its own read (an update asked
 * while another runs gets a fresh answer, not that one's); `schedule` re-runs it every
 * `interval`. The owner keeps what it built from the payload.
 */
export class FetchedCopy {
  readonly #src: CopySource;
  readonly #env: CopyEnv;
  readonly #h: CopyHandlers;
  #updatedAt = 0;
  #hash: string | undefined;
  #etag: string | undefined;
  /** the server's Last-Modified for the copy, sent back as If-Modified-Since */
  #lastModified: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #inflight: Promise<void> | undefined;
  #closed = false;

  /** `path`: the copy on disk (file: the file itself; http: the last good fetch) */
  constructor(
    source: CopySource,
    readonly path: string,
    env: CopyEnv,
    handlers: CopyHandlers,
  ) {
    this.#src = source;
    this.#env = env;
    this.#h = handlers;
  }

  /** when the payload was last read, fetched or confirmed (ms since the epoch; 0: never) */
  get updatedAt(): number {
    return this.#updatedAt;
  }

  /** ms since the last update (Infinity before the first) */
  get age(): number {
    return this.#updatedAt === 0 ? Infinity : Date.now() - this.#updatedAt;
  }

  /** where an http copy keeps the ETag and Last-Modified of its payload (beside it) */
  get validatorsPath(): string | undefined {
    return this.#src.type === 'http' ? `${this.path}.meta.json` : undefined;
  }

  get #limit(): number {
    return this.#src.sizeLimit > 0 ? this.#src.sizeLimit : this.#h.defaultSizeLimit;
  }

  /**
   * Takes over the previous generation's copy of the same provider (what it loaded, its
   * validators and time), so a reload does not fetch again unconditionally.
   */
  adopt(previous: FetchedCopy): void {
    this.#hash = previous.#hash;
    this.#etag = previous.#etag;
    this.#lastModified = previous.#lastModified;
    this.#updatedAt = previous.#updatedAt;
  }

  /** Reads the copy on disk; a missing copy (http: not fetched yet) or a bad one is a warning. */
  async loadLocal(): Promise<void> {
    try {
      await this.#readDisk();
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException)?.code === 'ENOENT';
      if (this.#src.type === 'file' || !missing) this.#warn(`${this.path}: ${missing ? 'no such file' : errorMessage(err)}`);
    }
  }

  /** Fetches (http) or re-reads (file) now; rejects with the reason (the old set stays). */
  update(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`provider ${this.#src.name} is closed`));
    const run = (this.#inflight ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => (this.#src.type === 'http' ? this.#fetch() : this.#readDisk()));
    const tracked = run.finally(() => {
      if (this.#inflight === tracked) this.#inflight = undefined;
    });
    this.#inflight = tracked;
    return tracked;
  }

  /** Updates after `delayMs`, then every `interval` (a failure is a warning; the timer goes on). */
  schedule(delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.update()
        .catch((err: unknown) => {
          if (!this.#closed) this.#warn(`update failed: ${errorMessage(err)}`);
        })
        .finally(() => {
          if (!this.#closed && this.#src.intervalSec > 0) this.schedule(this.#src.intervalSec * 1000);
        });
    }, delayMs);
  }

  /** Stops the timer and aborts a fetch under way. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort(new Error('provider closed'));
  }

  async #readDisk(): Promise<void> {
    const path = this.path;
    const st = await stat(path);
    const limit = this.#limit;
    if (limit > 0 && st.size > limit) throw new Error(`the file is larger than size-limit (${limit} bytes)`);
    const buf = await readFile(path);
    if (this.#closed) return;
    this.#take(buf, 'file');
    this.#updatedAt = st.mtimeMs;
    if (this.#src.type === 'http') await this.#readValidators();
  }

  /** Applies a payload unless it is the one loaded; true when applied. */
  #take(buf: Buffer, source: 'file' | 'fetch'): boolean {
    const hash = createHash('sha256').update(buf).digest('hex');
    if (hash === this.#hash) return false;
    this.#h.apply(buf, source);
    this.#hash = hash;
    return true;
  }

  /** The copy's ETag / Last-Modified from beside it, when they belong to this very copy (its hash). */
  async #readValidators(): Promise<void> {
    const file = this.validatorsPath;
    if (file === undefined) return;
    let meta: unknown;
    try {
      // a few hundred bytes when ours: anything big is not, and is never read whole
      if ((await stat(file)).size > MAX_VALIDATORS_BYTES) return;
      meta = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return; // missing or unreadable: the next fetch is unconditional but for the mtime
    }
    const m = meta as Partial<Record<'sha256' | 'etag' | 'lastModified', unknown>> | null;
    if (m === null || typeof m !== 'object' || m.sha256 !== this.#hash) return;
    this.#etag = typeof m.etag === 'string' && m.etag !== '' ? m.etag : undefined;
    this.#lastModified = typeof m.lastModified === 'string' && m.lastModified !== '' ? m.lastModified : undefined;
  }

  async #writeValidators(): Promise<void> {
    const file = this.validatorsPath;
    if (file === undefined || this.#hash === undefined) return;
    const body = { sha256: this.#hash, ...(this.#etag !== undefined && { etag: this.#etag }), ...(this.#lastModified !== undefined && { lastModified: this.#lastModified }) };
    try {
      await writeAtomic(file, `${JSON.stringify(body)}\n`);
    } catch (err) {
      this.#warn(`${file}: ${errorMessage(err)}`);
    }
  }

  async #fetch(): Promise<void> {
    const src = this.#src;
    const via = src.proxy ?? 'DIRECT';
    const outbound = this.#env.lookup(via);
    if (!outbound) throw new Error(`proxy "${via}" not found`);
    const headers: Record<string, readonly string[]> = { ...src.header };
    if (this.#hash !== undefined) {
      if (this.#etag !== undefined) headers['if-none-match'] = [this.#etag];
      if (this.#lastModified !== undefined) headers['if-modified-since'] = [this.#lastModified];
      else if (this.#updatedAt > 0) headers['if-modified-since'] = [new Date(this.#updatedAt).toUTCString()];
    }
    const abort = new AbortController();
    this.#abort = abort;
    let res: Awaited<ReturnType<typeof fetchThrough>>;
    try {
      res = await fetchThrough(outbound, {
        url: src.url!,
        headers,
        timeoutMs: this.#env.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
        sizeLimit: this.#limit,
        signal: abort.signal,
        ca: this.#env.ca,
      });
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
    if (this.#closed) return;
    this.#h.onHeaders?.(res.headers);
    if (res.status === 304 && this.#hash !== undefined) {
      this.#updatedAt = Date.now();
      await this.#touchCopy();
      this.#env.log.debug(`[Provider] ${this.#src.name}: not modified`);
      return;
    }
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
    const changed = this.#take(res.body, 'fetch');
    const etag = res.headers.etag;
    const lastModified = res.headers['last-modified'];
    this.#etag = typeof etag === 'string' && etag !== '' ? etag : undefined;
    this.#lastModified = typeof lastModified === 'string' && lastModified !== '' ? lastModified : undefined;
    this.#updatedAt = Date.now();
    // the validators first: they name the copy's hash, so a crash before the copy is renamed
    // leaves them unused
    await this.#writeValidators();
    if (changed) await writeAtomic(this.path, res.body);
    else await this.#touchCopy();
  }

  async #touchCopy(): Promise<void> {
    const now = new Date();
    await utimes(this.path, now, now).catch(() => undefined);
  }

  #warn(message: string): void {
    this.#env.log.warn(`[Provider] ${this.#src.name}: ${message}`);
  }
}
