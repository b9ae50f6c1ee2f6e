import { Invariant, isTyped } from '../harness.js';
import { reads, type Chunked } from '../bytes.js';

/** A parser's answer reduced to what must not depend on how the bytes were split. */
export type Outcome = { readonly k: 'more' } | { readonly k: 'bad' } | { readonly k: 'ok'; readonly v: string };

function text(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' ? Buffer.from((x as { data: number[] }).data).toString('hex') : x));
}

/** Runs `f` and maps its answer to an Outcome; a typed throw is `bad`, anything else escapes. */
export function outcome(f: () => Outcome): Outcome {
  try {
    return f();
  } catch (err) {
    if (isTyped(err)) return { k: 'bad' };
    throw err;
  }
}

export const ok = (v: unknown): Outcome => ({ k: 'ok', v: text(v) });
export const MORE: Outcome = { k: 'more' };
export const BAD: Outcome = { k: 'bad' };

/**
 * A re-parsing reader (the listeners parse the growing buffer as reads arrive): the first
 * decisive answer over the reads must be the answer for the whole input, decided the same way.
 */
export function sameAtEverySplit(input: Chunked, parse: (buf: Buffer) => Outcome): void {
  let buf = Buffer.alloc(0);
  let first: Outcome = MORE;
  for (const r of reads(input)) {
    buf = Buffer.concat([buf, r]);
    first = outcome(() => parse(buf));
    if (first.k !== 'more') break;
  }
  if (first.k === 'more') return;
  const whole = outcome(() => parse(input.bytes));
  if (whole.k !== first.k || (whole.k === 'ok' && first.k === 'ok' && whole.v !== first.v)) {
    throw new Invariant(`split reads gave ${text(first)}, the whole input ${text(whole)}`);
  }
}

/**
 * An incremental decoder: the output over split reads must equal the output of one read, and
 * an error must happen either way (the decoder may have emitted a prefix before failing).
 */
export function sameOverReads(input: Chunked, fresh: () => (chunk: Buffer) => string[]): void {
  const run = (chunks: Buffer[]): { out: string; bad: boolean } => {
    const feed = fresh();
    let out = '';
    try {
      for (const c of chunks) out += feed(c).join('');
    } catch (err) {
      if (isTyped(err)) return { out, bad: true };
      throw err;
    }
    return { out, bad: false };
  };
  const split = run(reads(input));
  const whole = run(input.bytes.length > 0 ? [Buffer.from(input.bytes)] : []);
  if (split.bad !== whole.bad) throw new Invariant(`split reads ${split.bad ? 'failed' : 'passed'}, one read ${whole.bad ? 'failed' : 'passed'}`);
  if (!split.bad && split.out !== whole.out) throw new Invariant('split reads decoded other bytes than one read');
  if (split.bad && !(whole.out.startsWith(split.out) || split.out.startsWith(whole.out))) {
    throw new Invariant('split reads and one read decoded different prefixes before failing');
  }
}
