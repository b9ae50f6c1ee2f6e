import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogView } from '../core/control-plane.js';
import { logJson, logText } from './shapes.js';

test('logText is exactly JSON.stringify(logJson), plain and structured', () => {
  const entries: LogView[] = [
    { level: 'info', message: '[TCP] 127.0.0.1:5(DEFAULT-MIXED) --> a.example:443 match Match using DIRECT', time: 1_700_000_000_000 },
    { level: 'warning', message: 'quote " backslash \\ newline \n 名前 \u0000 \ud800', time: 0 },
    { level: 'debug', message: '', time: 86_399_999 },
  ];
  for (const e of entries) for (const structured of [false, true]) assert.equal(logText(e, structured), JSON.stringify(logJson(e, structured)));
});
