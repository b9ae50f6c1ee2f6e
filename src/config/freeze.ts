/** `T` with every property and array element readonly, all the way down. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/**
 * Freezes plain objects and arrays recursively, so no part of the runtime can mutate a loaded
 * config (a reload builds a new one instead). Other objects (Buffers, class instances a protocol
 * schema may produce) are left alone: freezing a typed array throws, and classes own their state.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  const stack: unknown[] = [value];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    const proto = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) continue;
    seen.add(v);
    Object.freeze(v);
    for (const child of Object.values(v)) stack.push(child);
  }
  return value as DeepReadonly<T>;
}
