/** Stable error codes: tests, logs and the API branch on these, never on message text. */
export type ErrorCode =
  | 'CONFIG'
  | 'REJECTED'
  | 'DIAL_TIMEOUT'
  | 'DIAL_FAILED'
  | 'RESOLVE_FAILED'
  | 'PROTOCOL'
  | 'AUTH'
  | 'UNSUPPORTED'
  | 'ABORTED';

/** The project's one error type: a code to branch on, a message for people, a cause for context. */
export class ProxyError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ProxyError';
  }
}

/** Narrowing helper: is `err` a ProxyError with this code? */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof ProxyError && err.code === code;
}

/** The message of anything thrown, for log lines. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
