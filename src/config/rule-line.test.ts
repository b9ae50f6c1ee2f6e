import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig } from './load.js';
import { ruleLineSchema } from './rule-line.js';

const load = (text: string) => loadConfig(text, { registry: new ProxyRegistry() });
const GROUP = 'proxy-groups:\n  - { name: G, type: select, proxies: [DIRECT] }\n';

function errorsOf(text: string): readonly ConfigIssue[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected the config to be refused');
}

/** [type, payload, target, params] of one line */
function split(line: string): [string, string, string, readonly string[]] {
  const r = ruleLineSchema.parse(line);
  return [r.type, r.payload, r.target, r.params];
}

describe('rule line splitting', () => {
  it('splits TYPE,PAYLOAD,TARGET[,params] and upper-cases the type', () => {
    assert.deepEqual(split('DOMAIN-SUFFIX,google.com,Proxy'), ['DOMAIN-SUFFIX', 'google.com', 'Proxy', []]);
    assert.deepEqual(split('ip-cidr, 1.2.3.0/24 , DIRECT , no-resolve'), ['IP-CIDR', '1.2.3.0/24', 'DIRECT', ['no-resolve']]);
    assert.deepEqual(split('IP-CIDR6,::1/128,DIRECT,no-resolve,src'), ['IP-CIDR6', '::1/128', 'DIRECT', ['no-resolve', 'src']]);
    assert.deepEqual(split('DST-PORT,443,DIRECT,'), ['DST-PORT', '443', 'DIRECT', []]);
  });

  it('reads MATCH with and without extra fields', () => {
    assert.deepEqual(split('MATCH,DIRECT'), ['MATCH', '', 'DIRECT', []]);
    assert.deepEqual(split('match , Proxy'), ['MATCH', '', 'Proxy', []]);
  });

  it('keeps commas inside the parentheses of logic rules', () => {
    assert.deepEqual(split('AND,((DOMAIN,x.com),(NETWORK,UDP)),DIRECT'), ['AND', '((DOMAIN,x.com),(NETWORK,UDP))', 'DIRECT', []]);
    assert.deepEqual(split('or,((DOMAIN-SUFFIX, a.com),(AND,((DST-PORT,53),(NETWORK,UDP)))),REJECT'), [
      'OR',
      '((DOMAIN-SUFFIX,a.com),(AND,((DST-PORT,53),(NETWORK,UDP))))',
      'REJECT',
      [],
    ]);
    assert.deepEqual(split('NOT,((GEOIP,CN)),Proxy'), ['NOT', '((GEOIP,CN))', 'Proxy', []]);
  });

  it('takes the last field as target for regex rules, whose payload may hold commas', () => {
    assert.deepEqual(split('DOMAIN-REGEX,^a{1,3}\\.com$,DIRECT'), ['DOMAIN-REGEX', '^a{1,3}\\.com$', 'DIRECT', []]);
    assert.deepEqual(split('PROCESS-NAME-REGEX,(?i)chrome,DIRECT'), ['PROCESS-NAME-REGEX', '(?i)chrome', 'DIRECT', []]);
  });

  it('keeps the raw line', () => {
    assert.equal(ruleLineSchema.parse(' domain,a.com,DIRECT ').raw, ' domain,a.com,DIRECT ');
  });
});

describe('rules in a config', () => {
  it('accepts built-in, GLOBAL and group targets with path and line', () => {
    const { config } = load(`${GROUP}rules:
  - DOMAIN,a.com,REJECT-DROP
  - DOMAIN,b.com,PASS
  - DOMAIN,c.com,GLOBAL
  - DOMAIN,d.com,G
  - MATCH,REJECT
`);
    assert.deepEqual(config.rules.map((r) => [r.target, r.path, r.line]), [
      ['REJECT-DROP', 'rules[0]', 4],
      ['PASS', 'rules[1]', 5],
      ['GLOBAL', 'rules[2]', 6],
      ['G', 'rules[3]', 7],
      ['REJECT', 'rules[4]', 8],
    ]);
  });

  it('reports every bad line with its index and line', () => {
    const issues = errorsOf(`${GROUP}rules:
  - DOMAIN,a.com,foo
  - DOMAIN,a.com
  - MATCH
  - AND,((DOMAIN,x),DIRECT
  - 42
  - ""
  - SUB-RULE,(NETWORK,tcp),sub
  - AND,((DOMAIN,x)),DIRECT,no-resolve
  - MATCH,direct
  - RULE-SET,ads,REJECT
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['rules[0]', 4, 'unknown target "foo"'],
        ['rules[1]', 5, 'format invalid: expected DOMAIN,PAYLOAD,TARGET'],
        ['rules[2]', 6, 'format invalid: expected MATCH,TARGET'],
        ['rules[3]', 7, 'format invalid: unbalanced parentheses'],
        ['rules[4]', 8, 'expected string, received number'],
        ['rules[5]', 9, 'format invalid: empty rule type'],
        ['rules[6]', 10, 'sub-rule [sub] not found'],
        ['rules[8]', 12, 'unknown target "direct"'],
        ['rules[9]', 13, 'rule set [ads] not found'],
      ],
    );
  });

  it('refuses rules that is not a list', () => {
    assert.deepEqual(errorsOf('rules: MATCH,DIRECT\n'), [{ path: 'rules', line: 1, message: 'expected a list' }]);
  });
});
