import fc from 'fast-check';
import { ConfigError } from '../../src/core/config-issue.js';
import { ProxyError } from '../../src/core/errors.js';

/**
 * The fuzz harness: one target is a parser fed by a fast-check arbitrary. A case passes when
 * the parser returns, or throws one of our typed errors (ProxyError, ConfigError). A finding is
 * anything else: another error (a RangeError from a Buffer read, a TypeError…), a case that
 * runs past its deadline, a single allocation beyond ALLOC_LIMIT (a length field trusted before
 * the bytes are in), or an invariant the target checks (split feeding must decode as the whole).
 */
export interface FuzzTarget<T = unknown> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** runs one case; return or throw a typed error; throw {@link Invariant} for a wrong answer */
  run(input: T): void | Promise<void>;
  /** the short mode's share of the requested count (slow targets such as the YAML loader) */
  readonly weight?: number;
  /** `run` returns a promise (a stream-level target): cases run one at a time under a timer */
  readonly async?: boolean;
  /** releases what the cases shared (a listener), after the last case */
  teardown?(): Promise<void>;
}

/** A target's own check failed: the parser answered, but wrongly. Always a finding. */
export class Invariant extends Error {
  override readonly name = 'Invariant';
}

/** Typed errors: the parser refused the input the way it should. */
export function isTyped(err: unknown): boolean {
  return (err instanceof ProxyError || err instanceof ConfigError) && !(err instanceof Invariant);
}

/** One allocation larger than this is a finding: no input of the fuzzers is near 1 MiB. */
export const ALLOC_LIMIT = 1 << 20;

/** The per-case deadline: generous, the machine is shared and busy. */
export const CASE_DEADLINE_MS = 3000;

export interface FuzzResult {
  readonly target: string;
  readonly cases: number;
  readonly ms: number;
  /** undefined: no finding */
  readonly finding?: {
    readonly seed: number;
    readonly path: string | undefined;
    readonly counterexample: string;
    readonly error: string;
  };
}

/** A finding raised by the harness itself (not the parser's code). */
class Finding extends Error {
  override readonly name = 'Finding';
}

let allocSeen: number | undefined;
let guardDepth = 0;
const originals = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };

/** Wraps Buffer's allocators so an oversized request is recorded (and refused) during a case. */
function guardAllocations(on: boolean): void {
  if (on) {
    if (guardDepth++ > 0) return;
    const check = (size: number): void => {
      if (typeof size === 'number' && size > ALLOC_LIMIT) {
        allocSeen = Math.max(allocSeen ?? 0, size);
        throw new Finding(`allocation of ${size} bytes`);
      }
    };
    Buffer.alloc = ((size: number, ...rest: unknown[]) => {
      check(size);
      return (originals.alloc as (...a: unknown[]) => Buffer)(size, ...rest);
    }) as typeof Buffer.alloc;
    Buffer.allocUnsafe = ((size: number) => {
      check(size);
      return originals.allocUnsafe(size);
    }) as typeof Buffer.allocUnsafe;
    Buffer.allocUnsafeSlow = ((size: number) => {
      check(size);
      return originals.allocUnsafeSlow(size);
    }) as typeof Buffer.allocUnsafeSlow;
    return;
  }
  if (--guardDepth > 0) return;
  Buffer.alloc = originals.alloc;
  Buffer.allocUnsafe = originals.allocUnsafe;
  Buffer.allocUnsafeSlow = originals.allocUnsafeSlow;
}

/** One case of a synchronous target (no promise machinery: several times faster). */
function oneCaseSync<T>(t: FuzzTarget<T>, input: T): void {
  allocSeen = undefined;
  const started = performance.now();
  guardAllocations(true);
  try {
    const r = t.run(input);
    if (r instanceof Promise) throw new Finding(`${t.name} returned a promise but is not marked async`);
  } catch (err) {
    if (!isTyped(err)) throw err;
  } finally {
    guardAllocations(false);
  }
  if (allocSeen !== undefined) throw new Finding(`allocation of ${allocSeen} bytes (swallowed by the parser)`);
  const ms = performance.now() - started;
  if (ms > CASE_DEADLINE_MS) throw new Finding(`case took ${Math.round(ms)} ms`);
}

/** Runs one case under the guards; throws a Finding/Invariant/untyped error for a finding. */
async function oneCase<T>(t: FuzzTarget<T>, input: T): Promise<void> {
  allocSeen = undefined;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  guardAllocations(true);
  try {
    const r = t.run(input);
    if (r instanceof Promise) {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Finding(`no answer within ${CASE_DEADLINE_MS} ms`)), CASE_DEADLINE_MS);
      });
      await Promise.race([r, deadline]);
    }
  } catch (err) {
    if (!isTyped(err)) throw err;
  } finally {
    if (timer) clearTimeout(timer);
    guardAllocations(false);
  }
  if (allocSeen !== undefined) throw new Finding(`allocation of ${allocSeen} bytes (swallowed by the parser)`);
  const ms = performance.now() - started;
  if (ms > CASE_DEADLINE_MS) throw new Finding(`case took ${Math.round(ms)} ms`);
}

/** Runs `cases` cases of one target; fast-check shrinks a finding to a minimal input. */
export async function fuzzTarget<T>(t: FuzzTarget<T>, opts: { cases: number; seed?: number; path?: string }): Promise<FuzzResult> {
  const started = performance.now();
  const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const params = { numRuns: opts.cases, seed, path: opts.path, endOnFailure: false, maxSkipsPerRun: 1000 };
  const details = t.async
    ? await fc.check(fc.asyncProperty(t.arbitrary, (input) => oneCase(t, input)), params)
    : fc.check(fc.property(t.arbitrary, (input) => oneCaseSync(t, input)), params);
  await t.teardown?.();
  const ms = performance.now() - started;
  if (!details.failed) return { target: t.name, cases: details.numRuns, ms };
  const e = details.errorInstance;
  return {
    target: t.name,
    cases: details.numRuns,
    ms,
    finding: {
      seed: details.seed,
      path: details.counterexamplePath ?? undefined,
      counterexample: fc.stringify(details.counterexample),
      error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 6).join('\n')}` : String(e),
    },
  };
}
