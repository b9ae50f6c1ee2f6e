import type { z } from 'zod';
import type { ConfigIssue } from '../core/config-issue.js';

/** One step into the YAML document: a mapping key or a sequence index. */
export type PathSeg = string | number;

/** A path into the document, as segments. */
export type Path = readonly PathSeg[];

/** Finds the 1-based YAML line of a path (or of its nearest known ancestor). */
export type LineOf = (path: Path) => number | undefined;

// Beyond this many errors the rest are counted, not listed: a pathological file must not
// produce a megabyte-long error message.
const MAX_ERRORS = 200;
const MAX_WARNINGS = 200;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `proxies[3].cipher`, `proxy-groups[1].proxies[2]`; odd keys are quoted: `hosts["a.b"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Collects every error and warning of one load, each with its path and line, so a user sees all
 * problems of a config at once instead of fixing them one run at a time.
 */
export class Issues {
  readonly #errors: ConfigIssue[] = [];
  readonly #warnings: ConfigIssue[] = [];
  #droppedErrors = 0;
  #droppedWarnings = 0;
  readonly #lineOf: LineOf;

  constructor(lineOf: LineOf) {
    this.#lineOf = lineOf;
  }

  /** The line of a path, for results that carry their own line (listeners, proxies, rules). */
  lineOf(path: Path): number | undefined {
    return this.#lineOf(path);
  }

  #make(path: Path, message: string): ConfigIssue {
    const line = this.#lineOf(path);
    const p = formatPath(path);
    return line === undefined ? { path: p, message } : { path: p, line, message };
  }

  /** Records an error at `path`. */
  error(path: Path, message: string): void {
    if (this.#errors.length >= MAX_ERRORS) this.#droppedErrors++;
    else this.#errors.push(this.#make(path, message));
  }

  /** Records an error at an already located item (`proxies[3]`, line 42). */
  errorAt(loc: { readonly path: string; readonly line?: number }, message: string): void {
    if (this.#errors.length >= MAX_ERRORS) this.#droppedErrors++;
    else this.#errors.push(loc.line === undefined ? { path: loc.path, message } : { path: loc.path, line: loc.line, message });
  }

  /** Records a warning at `path`. */
  warn(path: Path, message: string): void {
    if (this.#warnings.length >= MAX_WARNINGS) this.#droppedWarnings++;
    else this.#warnings.push(this.#make(path, message));
  }

  /** Records each issue of a failed zod parse, under `base`. */
  zod(base: Path, error: z.ZodError): void {
    for (const issue of error.issues) {
      const sub = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
      this.error([...base, ...sub], zodMessage(issue.message));
    }
  }

  /** Whether any error was recorded. */
  get failed(): boolean {
    return this.#errors.length > 0;
  }

  /** The errors in file order, plus a closing note when some were dropped. */
  errors(): ConfigIssue[] {
    const out = [...this.#errors].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    if (this.#droppedErrors > 0) out.push({ path: '', message: `… and ${this.#droppedErrors} more errors` });
    return out;
  }

  /** The warnings, plus a closing note when some were dropped. */
  warnings(): ConfigIssue[] {
    const out = [...this.#warnings];
    if (this.#droppedWarnings > 0) out.push({ path: '', message: `… and ${this.#droppedWarnings} more warnings` });
    return out;
  }
}

/** zod's wording made shorter: `missing`, `expected string, received number`. */
function zodMessage(m: string): string {
  if (/received undefined$/.test(m)) return 'missing';
  return m.replace(/^Invalid (input|option): /, '');
}

/** Plain-object test for values from YAML (a mapping became a plain object). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where a config item came from: its path (`proxies[3]`) and YAML line. */
export interface Located {
  readonly path: string;
  readonly line?: number;
}

/** The location of `path`, for results that carry it. */
export function locate(issues: Issues, path: Path): Located {
  const line = issues.lineOf(path);
  const p = formatPath(path);
  return line === undefined ? { path: p } : { path: p, line };
}
