/**
 * The smallest entry ≥ `from` in an ascending list of rule indices, or -1. The rule tables keep
 * such lists only for keys written more than once, so they are short and rare; binary search
 * still keeps a pathological list (the same suffix 10,000 times) cheap.
 */
export function firstAtLeast(sorted: readonly number[], from: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length ? sorted[lo] : -1;
}
