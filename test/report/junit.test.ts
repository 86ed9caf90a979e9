import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import { renderJunit } from '../../src/report/junit.js';
import type { CheckResult } from '../../src/report/schema.js';
import { RAW_KEY, SCRIPT, hostileReport } from './helpers.js';
import { findAll, parseXml } from './xml.js';

function propertiesOf(element: { children: { name: string; children: { name: string; attrs: Record<string, string> }[] }[] }) {
  const props = element.children.find((c) => c.name === 'properties')?.children ?? [];
  return Object.fromEntries(props.map((p) => [p.attrs['name'], p.attrs['value']]));
}

describe('the XML checker used by these tests', () => {
  it.each([
    ['<a><b></a></b>'],
    ['<a x=1/>'],
    ['<a x="1" x="2"/>'],
    ['<a>1 < 2</a>'],
    ['<a>fish & chips</a>'],
    ['<a x="a<b"/>'],
    ['<a/><b/>'],
    ['<a>\u0001</a>'],
    ['<a>]]></a>'],
    ['<a>'],
  ])('rejects %j', (doc) => {
    expect(() => parseXml(doc)).toThrow();
  });

  it('accepts and decodes a well-formed document', () => {
    const root = parseXml('<?xml version="1.0"?>\n<a x="&quot;&#10;&amp;"><b>1 &lt; 2</b><b/></a>');
    expect(root.attrs['x']).toBe('"\n&');
    expect(findAll(root, 'b')).toHaveLength(2);
  });
});

describe('renderJunit', () => {
  const report = sampleReport();
  const root = parseXml(renderJunit(report));

  it('is well-formed, with run totals on <testsuites>', () => {
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ name: 'ekso-conformance', tests: '6', failures: '2', errors: '1', skipped: '1' });
    expect(Number(root.attrs['time'])).toBeCloseTo(33.62, 2);
  });

  it('has one testsuite per requirement group and one testcase per check', () => {
    const suites = findAll(root, 'testsuite');
    expect(suites.map((s) => s.attrs['name']?.split(':')[0])).toEqual(['AK', 'RT', 'DF', 'CM', 'ERR']);
    expect(findAll(root, 'testcase')).toHaveLength(report.checks.length);
    const rt = suites[1];
    expect(rt?.attrs).toMatchObject({ tests: '2', failures: '2', errors: '0', skipped: '0' });
    const names = findAll(root, 'testcase').map((t) => t.attrs['name']);
    expect(names).toContain('RT-replay-revokes-family — Replaying a superseded refresh token revokes the whole family');
    expect(findAll(rt!, 'testcase').every((t) => t.attrs['classname'] === 'RT')).toBe(true);
  });

  it('writes a failure with the requirement, expected vs actual, minimal steps and the replay command', () => {
    const testcase = findAll(root, 'testcase').find((t) => t.attrs['name']?.startsWith('RT-replay-revokes-family'))!;
    const failure = testcase.children.find((c) => c.name === 'failure')!;
    expect(failure.attrs['type']).toBe('RT-04');
    expect(failure.attrs['message']).toContain("family's newest refresh token");
    expect(failure.text).toContain('Requirement RT-04 (MUST): Presenting a superseded refresh token');
    expect(failure.text).toContain('Expected: 400 invalid_grant');
    expect(failure.text).toContain('Actual:   200 with a new token pair');
    expect(failure.text).toContain('  4. refresh with RT#2 → 200');
    expect(failure.text).toContain('seed 1234567, path 56:2');
    expect(failure.text).toContain('Replay: npx ekso-conformance --base-url http://127.0.0.1:7070 --check RT-replay-revokes-family');
    expect(propertiesOf(testcase)).toMatchObject({ seed: '1234567', path: '56:2', replayPath: '56:2:0', policy: 'strict', mode: 'backend' });
  });

  it('maps skipped to <skipped message> and inconclusive to <error message>', () => {
    const cases = findAll(root, 'testcase');
    const skipped = cases.find((t) => t.attrs['name']?.startsWith('DF-device-flow'))!;
    expect(skipped.children.find((c) => c.name === 'skipped')?.attrs['message']).toContain('--device-approve-command');
    const inconclusive = cases.find((t) => t.attrs['name']?.startsWith('ERR-unauthenticated'))!;
    expect(inconclusive.children.find((c) => c.name === 'error')?.attrs['message']).toContain('timeout after 30 s');
    const passed = cases.find((t) => t.attrs['name']?.startsWith('AK-mint-shape'))!;
    expect(passed.children.map((c) => c.name)).toEqual(['properties']);
  });

  it('carries run facts as suite properties', () => {
    const suite = findAll(root, 'testsuite')[0]!;
    expect(propertiesOf(suite)).toMatchObject({ seed: '1234567', policy: 'strict', mode: 'backend' });
  });

  it('stays well-formed with markup, quotes, ]]> and control characters from the target', () => {
    const hostile = hostileReport();
    const xml = renderJunit(hostile);
    const parsed = parseXml(xml);
    const failure = findAll(parsed, 'failure').find((f) => f.attrs['type'] === 'RT-04')!;
    expect(failure.attrs['message']).toContain(`message ${SCRIPT} \`tick\` | pipe ]]>`);
    expect(failure.attrs['message']).toContain('\uFFFD\uFFFD ctrl');
    expect(failure.text).toContain(`step ${SCRIPT}`);
    expect(xml).not.toContain(RAW_KEY);
  });

  it('groups a check by the catalog group of its first requirement, else by its own group', () => {
    const base = sampleReport().checks[0]!;
    const checks: CheckResult[] = [
      { ...base, id: 'misfiled', group: 'XX', requirements: ['RT-01'] },
      { ...base, id: 'custom', group: 'CUSTOM', requirements: ['ZZ-01'] },
    ];
    const parsed = parseXml(renderJunit(sampleReport({ checks })));
    const suites = findAll(parsed, 'testsuite').map((s) => [s.attrs['name'], findAll(s, 'testcase').map((t) => t.attrs['classname'])]);
    expect(suites).toEqual([
      ['RT: Backend: refresh tokens and rotation', ['RT']],
      ['CUSTOM: CUSTOM', ['CUSTOM']],
    ]);
  });

  it('writes a baselined failure as skipped, so CI agrees with the exit code', () => {
    const base = sampleReport();
    const requirements = base.requirements.map((v) => (v.status === 'failed' ? { ...v, baselined: true } : v));
    const parsed = parseXml(renderJunit({ ...base, requirements }));
    expect(parsed.attrs).toMatchObject({ failures: '0', skipped: '3' });
    const skipped = findAll(parsed, 'skipped').find((s) => s.attrs['message']?.startsWith('baselined'));
    expect(skipped?.text).toContain('Replay: npx ekso-conformance');
  });
});
