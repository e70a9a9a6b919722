/**
 * The Node-below-engines warning (bin/engines.js, used by bin/kbak.js before anything else):
 * the comparison against package.json's real `engines`, and the line it prints. The real
 * start-up on an old and on supported Nodes is test/integration/node-version.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- bin/ is plain CommonJS, run before dist/ exists
const { belowEngines, enginesWarning } = require('../../bin/engines') as {
  belowEngines: (version: string, range: string) => boolean;
  enginesWarning: (version: string, range: string, opts: { isTTY: boolean; logFormat?: string }) => string;
};
const engines = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

describe('belowEngines against package.json engines', () => {
  it(`is true below ${engines} and false at or above it`, () => {
    expect(engines).toBe('>=22.15');
    expect(belowEngines('20.20.2', engines)).toBe(true);
    expect(belowEngines('22.14.9', engines)).toBe(true);
    expect(belowEngines('v22.15.0', engines)).toBe(false);
    expect(belowEngines('22.23.3', engines)).toBe(false);
    expect(belowEngines('24.0.0', engines)).toBe(false);
  });
  it('never warns on a range it does not understand', () => {
    expect(belowEngines('1.0.0', '^22 || ^24')).toBe(false);
    expect(belowEngines('1.0.0', '')).toBe(false);
  });
});

describe('enginesWarning', () => {
  it('is words on a terminal and one JSON log line otherwise', () => {
    expect(enginesWarning('20.1.0', '>=22.15', { isTTY: true })).toBe(
      'kbak: warning: Node 20.1.0 is older than kbak supports (node >=22.15, package.json engines): upgrade Node; until then kbak may fail in unexpected ways\n',
    );
    const json = enginesWarning('20.1.0', '>=22.15', { isTTY: false });
    expect(json.endsWith('\n')).toBe(true);
    expect(JSON.parse(json)).toMatchObject({ level: 40, app: 'kbak', node: '20.1.0', engines: '>=22.15' });
    expect(enginesWarning('20.1.0', '>=22.15', { isTTY: false, logFormat: 'human' })).toMatch(/^kbak: warning: /);
  });
});
