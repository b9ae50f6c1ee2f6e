import { ProxyError } from '../core/errors.js';

/**
 * The caller's view of a shared (de-duplicated) query: resolves or rejects with `p`, or rejects
 * with ABORTED (`<label>: aborted`) as soon as the caller's own signal fires, leaving `p` to the
 * other callers.
 */
export function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined, label: string): Promise<T> {
  if (!signal) return p;
  const aborted = (): ProxyError => new ProxyError('ABORTED', `${label}: aborted`, { cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
