/**
 * mihomo's `expected-status`: `*` (any), one code, or codes and ranges joined by `/`
 * (`200/302/400-503`). Parsed once; `matches` is a few comparisons.
 */
export class ExpectedStatus {
  readonly text: string;
  readonly #ranges: readonly (readonly [number, number])[];

  private constructor(text: string, ranges: readonly (readonly [number, number])[]) {
    this.text = text;
    this.#ranges = ranges;
  }

  /** Any status counts as alive (mihomo's default). */
  static readonly ANY = new ExpectedStatus('*', []);

  /** Parses `text`; throws an Error naming the bad part. An empty text or `*` is ANY. */
  static parse(text: string): ExpectedStatus {
    const t = text.trim();
    if (t === '' || t === '*') return ExpectedStatus.ANY;
    const ranges: [number, number][] = [];
    for (const part of t.split('/')) {
      const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
      if (!m) throw new Error(`expected-status: "${part}" is not a status code or range (e.g. 200/302/400-503)`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (lo < 100 || hi > 599 || hi < lo) throw new Error(`expected-status: "${part}" is not a range of HTTP status codes`);
      ranges.push([lo, hi]);
    }
    return new ExpectedStatus(t, ranges);
  }

  matches(status: number): boolean {
    if (this.#ranges.length === 0) return true;
    for (const [lo, hi] of this.#ranges) if (status >= lo && status <= hi) return true;
    return false;
  }
}
