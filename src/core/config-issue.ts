/**
 * One problem found in a config: where (`proxies[3].cipher`, YAML line) and what.
 * Loading collects all of them and reports them at once.
 */
export interface ConfigIssue {
  /** JS-style path into the YAML document: `proxies[3].cipher`, `rules[12]` */
  readonly path: string;
  /** 1-based YAML line, when known */
  readonly line?: number;
  readonly message: string;
}

/** `proxies[3].cipher (line 42): unsupported cipher foo` */
export function formatIssue(i: ConfigIssue): string {
  const at = i.path === '' ? '' : i.path;
  const line = i.line !== undefined ? ` (line ${i.line})` : '';
  return `${at}${line}${at || line ? ': ' : ''}${i.message}`;
}

/** Thrown when a config has errors; carries every issue found. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly code = 'CONFIG';
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
    this.name = 'ConfigError';
  }
}
