import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { ConfigError } from '../../../src/core/config-issue.js';
import { DEFAULT_CONFIG_YAML } from '../../../src/config/load.js';
import { loadText } from '../../../src/host/host.js';
import { payloadMappings } from '../../../src/provider/payload.js';
import { parseShareLinks } from '../../../src/provider/share-links.js';

/** The repository's own test sources: where the real configs and links live. */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.test.ts') || (dir.includes('support') && name.endsWith('.ts'))) out.push(p);
  }
  return out;
}

const root = new URL('../../../', import.meta.url).pathname;
const files = [...sources(join(root, 'src')), ...sources(join(root, 'test'))].filter((f) => !f.includes('/fuzz/')).map((f) => readFileSync(f, 'utf8'));

/** Every template literal without substitutions that reads as a config: the tests' own configs. */
export const CONFIG_CORPUS: readonly string[] = (() => {
  const out = new Set<string>([DEFAULT_CONFIG_YAML]);
  for (const src of files) {
    for (const m of src.matchAll(/`([^`$\\]{20,})`/g)) {
      if (/^(mixed-port|port|socks-port|proxies|rules|listeners|proxy-groups|proxy-providers|dns|mode|allow-lan):/m.test(m[1])) out.add(m[1]);
    }
  }
  return [...out];
})();

/** Every share link the tests use. */
export const LINK_CORPUS: readonly string[] = (() => {
  const out = new Set<string>();
  for (const src of files) for (const m of src.matchAll(/(?:ss|vmess|vless|trojan):\/\/[^\s'"`]+/g)) out.add(m[0]);
  return [...out];
})();

const EDGE_VALUES = ['', '~', 'null', '-1', '0', '65536', '99999999999999999999', '1e309', 'NaN', 'true', '[', '{', '"', "'", '*a', '&a x', '<<: *a', '!!binary AA==', '? x', '- -', ':', '#', '\t', 'x'.repeat(5000), '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'];

type TextEdit =
  | { readonly op: 'dropLine' | 'dupLine' | 'indent' | 'dedent'; readonly at: number }
  | { readonly op: 'value'; readonly at: number; readonly v: string }
  | { readonly op: 'char'; readonly at: number; readonly c: string }
  | { readonly op: 'cut'; readonly at: number }
  | { readonly op: 'swap'; readonly at: number; readonly with: number };

const edit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constantFrom('dropLine' as const, 'dupLine' as const, 'indent' as const, 'dedent' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('value' as const), at: fc.nat(), v: fc.oneof(fc.constantFrom(...EDGE_VALUES), fc.string({ maxLength: 20 })) }),
  fc.record({ op: fc.constant('char' as const), at: fc.nat(), c: fc.constantFrom(':', '-', ' ', '\n', '"', "'", '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '%', '@', '\0', '\u2028') }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
);

function applyEdit(text: string, e: TextEdit): string {
  const lines = text.split('\n');
  const i = e.at % Math.max(1, lines.length);
  switch (e.op) {
    case 'dropLine':
      lines.splice(i, 1);
      break;
    case 'dupLine':
      lines.splice(i, 0, lines[i] ?? '');
      break;
    case 'indent':
      lines[i] = `  ${lines[i] ?? ''}`;
      break;
    case 'dedent':
      lines[i] = (lines[i] ?? '').replace(/^ {1,2}/, '');
      break;
    case 'value': {
      // replace what follows the first ': ' (or '- ') on the line
      const l = lines[i] ?? '';
      const m = /^(\s*(?:- )?[^:]*:\s)|^(\s*- )/.exec(l);
      lines[i] = m ? m[0] + e.v : e.v;
      break;
    }
    case 'swap': {
      const j = e.with % Math.max(1, lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      break;
    }
    case 'char': {
      const at = e.at % (text.length + 1);
      return text.slice(0, at) + e.c + text.slice(at);
    }
    case 'cut':
      return text.slice(0, e.at % (text.length + 1));
  }
  return lines.join('\n');
}

const mutatedText = (corpus: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...corpus), fc.array(edit, { minLength: 0, maxLength: 5 })).map(([t, es]) => es.reduce(applyEdit, t));

export const textTargets: FuzzTarget<any>[] = [
  {
    name: 'yaml-config-loader',
    arbitrary: fc.oneof({ weight: 9, arbitrary: mutatedText(CONFIG_CORPUS) }, { weight: 1, arbitrary: fc.string({ maxLength: 300 }) }),
    run(text: string) {
      try {
        loadText(text);
      } catch (err) {
        // loadConfig wraps an escaped exception as this: it is a bug in a section parser
        if (err instanceof ConfigError && err.issues.some((i) => i.message.startsWith('cannot load config:'))) {
          throw new Invariant(`an exception escaped a section parser: ${err.message}`);
        }
        throw err;
      }
    },
    weight: 0.3,
  },
  {
    name: 'share-links',
    arbitrary: fc.oneof(
      { weight: 6, arbitrary: fc.array(mutatedLink(), { minLength: 1, maxLength: 4 }).map((ls) => ls.join('\n')) },
      { weight: 2, arbitrary: fc.array(mutatedLink(), { minLength: 1, maxLength: 4 }).map((ls) => Buffer.from(ls.join('\n')).toString('base64')) },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
    ),
    run(text: string) {
      // "never throws": every problem is a warning
      const r = parseShareLinks(text);
      if (r.warnings.length > 51) throw new Invariant(`${r.warnings.length} warnings`);
      payloadMappings(text);
    },
  },
];

function mutatedLink(): fc.Arbitrary<string> {
  const links = LINK_CORPUS.length > 0 ? LINK_CORPUS : ['ss://YWVzLTEyOC1nY206cHc@1.2.3.4:8388#x'];
  const charEdit = fc.record({ at: fc.nat(), c: fc.constantFrom('%', '@', ':', '/', '?', '#', '=', '&', '[', ']', '', '%zz', '%00', '9999999', '-1', 'A==', '\u00ff') , del: fc.integer({ min: 0, max: 5 }) });
  return fc.tuple(fc.constantFrom(...links), fc.array(charEdit, { maxLength: 4 })).map(([l, es]) =>
    es.reduce((s, e) => {
      const at = e.at % (s.length + 1);
      return s.slice(0, at) + e.c + s.slice(at + e.del);
    }, l),
  );
}
