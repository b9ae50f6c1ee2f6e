/** mihomo's log levels, in increasing severity; `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'silent'];

/** One log record, as subscribers (the REST API's /logs, later) receive it. */
export interface LogEntry {
  readonly level: Exclude<LogLevel, 'silent'>;
  readonly message: string;
  readonly time: Date;
}

/** The project's logger: mihomo-style lines on stdout, plus subscribers. */
export interface Logger {
  level: LogLevel;
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Receives every entry at or above the logger's level; returns the unsubscribe function. */
  subscribe(listener: (entry: LogEntry) => void): () => void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3, silent: 4 };

/** `2026-11-25T13:55:03.123+00:00`: RFC 3339 in local time, as logrus prints it. */
function timestamp(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** Formats a record the way mihomo's logrus text formatter does. */
export function formatLogLine(entry: LogEntry): string {
  return `time="${timestamp(entry.time)}" level=${entry.level} msg=${JSON.stringify(entry.message)}\n`;
}

/**
 * Creates a logger writing mihomo-style lines (`time="…" level=info msg="…"`) to `write`
 * (stdout by default).
 */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => void process.stdout.write(line),
): Logger {
  const listeners = new Set<(entry: LogEntry) => void>();
  const logger: Logger = {
    level,
    enabled: (l) => RANK[l] >= RANK[logger.level],
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warning', m),
    error: (m) => emit('error', m),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  function emit(l: Exclude<LogLevel, 'silent'>, message: string): void {
    if (RANK[l] < RANK[logger.level]) return;
    const entry: LogEntry = { level: l, message, time: new Date() };
    write(formatLogLine(entry));
    for (const fn of listeners) fn(entry);
  }
  return logger;
}
