import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { LineOf, Path } from './issues.js';

// Bounds the walk through aliases and merge keys: a hostile file may chain them deeply.
const MAX_STEPS = 10_000;

function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const v = key.value;
  return v === '<<' || (typeof v === 'symbol' && v.description === '<<');
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return typeof key.value === 'symbol' ? undefined : String(key.value);
  return undefined;
}

/**
 * Maps document paths to YAML lines. It follows aliases and `<<` merge keys the way the loaded
 * value does, so an error in a field that came from an anchored template (`<<: *base`) points
 * at the template's line.
 */
export function makeLineOf(doc: Document, lc: LineCounter): LineOf {
  const lineAt = (node: { range?: readonly number[] | null } | null | undefined): number | undefined => {
    const start = node?.range?.[0];
    return typeof start === 'number' ? lc.linePos(start).line : undefined;
  };

  return (path: Path): number | undefined => {
    let steps = 0;
    const resolve = (n: unknown): unknown => {
      let cur = n;
      while (isAlias(cur) && steps++ < MAX_STEPS) cur = cur.resolve(doc);
      return cur;
    };

    // Looks a key up in a map: own pairs first, then merge sources in order (earlier wins).
    const findPair = (map: unknown, key: string, depth: number): Pair | undefined => {
      const m = resolve(map);
      if (!isMap(m) || depth > 32 || steps++ > MAX_STEPS) return undefined;
      for (const p of m.items) if (!isMergeKey(p.key) && keyText(p.key) === key) return p;
      for (const p of m.items) {
        if (!isMergeKey(p.key)) continue;
        const src = resolve(p.value);
        const sources = isSeq(src) ? src.items : [src];
        for (const s of sources) {
          const found = findPair(s, key, depth + 1);
          if (found) return found;
        }
      }
      return undefined;
    };

    let node: unknown = doc.contents;
    let best = lineAt(node as Node | null);
    for (const seg of path) {
      const cur = resolve(node);
      if (typeof seg === 'number' && isSeq(cur)) {
        const item = cur.items[seg];
        if (item === undefined) break;
        node = item;
        best = lineAt(item as Node) ?? best;
      } else if (isMap(cur)) {
        const pair = findPair(cur, String(seg), 0);
        if (!pair) break;
        best = lineAt(pair.key as Node) ?? lineAt(pair.value as Node) ?? best;
        node = pair.value;
      } else {
        break;
      }
    }
    return best;
  };
}
