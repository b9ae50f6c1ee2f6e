import { readFileSync } from 'node:fs';

/** Set by `npm run build:binary` (bun build --define): the single-file binary has no package.json. */
declare const CLASH_TS_VERSION: string | undefined;

/** The package version: baked into the binary, else read from package.json once. */
export const VERSION: string =
  typeof CLASH_TS_VERSION === 'string'
    ? CLASH_TS_VERSION
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
