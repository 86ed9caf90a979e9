/**
 * `junit.xml`: one `<testsuite>` per requirement group, one `<testcase>` per check (CONTRACT §6),
 * in the Surefire/Jenkins dialect most CI systems read. A failure's text carries what a CI user
 * needs to reproduce it without opening another file (H-03): requirements, expected vs actual,
 * the shrunk steps and the replay command.
 */
import { escapeMarkup, escapeXmlAttr } from './escape.js';
import {
  catalogEntry,
  checksByGroup,
  groupTitle,
  isBaselined,
  runDurationMs,
  targetLabel,
  violatedBy,
} from './facts.js';
import { redactReport } from './safety-net.js';
import { findingsOf } from './findings.js';
import type { CheckResult, Report } from './schema.js';
import { exchangeSummary } from './transcript-format.js';

export function renderJunit(input: Report): string {
  const report = redactReport(input);
  const cases = report.checks.map((check) => ({ check, kind: caseKind(check, report) }));
  const count = (kind: CaseKind) => cases.filter((c) => c.kind === kind).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({
      name: 'ekso-conformance',
      tests: cases.length,
      failures: count('failure'),
      errors: count('error'),
      skipped: count('skipped'),
      time: seconds(runDurationMs(report)),
      timestamp: report.startedAt,
    })}>`,
  ];
  for (const [group, checks] of checksByGroup(report)) lines.push(...suite(report, group, checks));
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

type CaseKind = 'passed' | 'failure' | 'error' | 'skipped';

/**
 * Choice: a failure listed in --baseline is written as `<skipped>` (with the failure's details),
 * not `<failure>`: the run passes (exit 0), and CI test reporters that turn any `<failure>` red
 * would otherwise contradict the exit code the user asked for with the baseline.
 */
function caseKind(check: CheckResult, report: Report): CaseKind {
  switch (check.status) {
    case 'passed':
      return 'passed';
    case 'failed':
      return isBaselined(check, report) ? 'skipped' : 'failure';
    case 'inconclusive':
      return 'error';
    default:
      return 'skipped';
  }
}

function suite(report: Report, group: string, checks: CheckResult[]): string[] {
  const kinds = checks.map((c) => caseKind(c, report));
  const count = (kind: CaseKind) => kinds.filter((k) => k === kind).length;
  const lines = [
    `  <testsuite${attrs({
      name: `${group}: ${groupTitle(group)}`,
      tests: checks.length,
      failures: count('failure'),
      errors: count('error'),
      skipped: count('skipped'),
      time: seconds(checks.reduce((sum, c) => sum + c.durationMs, 0)),
      timestamp: report.startedAt,
    })}>`,
    '    <properties>',
    ...properties(runProperties(report), '      '),
    '    </properties>',
  ];
  checks.forEach((check, i) => lines.push(...testcase(report, group, check, kinds[i] ?? 'skipped')));
  lines.push('  </testsuite>');
  return lines;
}

function runProperties(report: Report): [string, string | number | undefined][] {
  return [
    ['mode', report.mode],
    ['target', targetLabel(report)],
    ['policy', report.policy],
    ['seed', report.seed],
    ['tool.version', report.tool.version],
    ['shard', report.shard ? `${report.shard.index}/${report.shard.count}` : undefined],
    ['exitCode', report.exitCode],
    ['interrupted', report.interrupted ? 'true' : undefined],
  ];
}

function testcase(report: Report, group: string, check: CheckResult, kind: CaseKind): string[] {
  const open = `    <testcase${attrs({ classname: group, name: `${check.id} — ${check.title}`, time: seconds(check.durationMs) })}>`;
  const props: [string, string | number | undefined][] = [
    ['requirements', check.requirements.join(' ')],
    ['seed', check.seed],
    ['path', check.path],
    ['replayPath', check.replayPath],
    ['runs', check.runs],
    ['numShrinks', check.numShrinks],
    ['reproduction', check.reproduction],
    ['established', check.established?.length ? check.established.join(' ') : undefined],
    ['limits', check.limits ? Object.entries(check.limits).map(([id, text]) => `${id}: ${text}`).join('; ') : undefined],
    ['policy', report.policy],
    ['mode', report.mode],
  ];
  const lines = [open, '      <properties>', ...properties(props, '        '), '      </properties>'];
  const message = check.message ?? check.status;
  if (kind === 'failure') {
    lines.push(
      `      <failure${attrs({ message, type: violatedBy(check).join(' ') })}>${escapeMarkup(failureText(check))}</failure>`,
    );
  } else if (kind === 'error') {
    lines.push(`      <error${attrs({ message, type: 'inconclusive' })}>${escapeMarkup(message)}</error>`);
  } else if (kind === 'skipped' && check.status === 'failed') {
    lines.push(`      <skipped${attrs({ message: `baselined (expected failure): ${message}` })}>${escapeMarkup(failureText(check))}</skipped>`);
  } else if (kind === 'skipped') {
    lines.push(`      <skipped${attrs({ message })}/>`);
  }
  lines.push('    </testcase>');
  return lines;
}

/** The failure's body text: everything needed to understand and replay each finding. */
export function failureText(check: CheckResult): string {
  const out: string[] = [];
  const findings = findingsOf(check);
  findings.forEach((finding, i) => {
    if (findings.length > 1) out.push(`${i ? '\n' : ''}Finding ${i + 1} of ${findings.length}${i ? ' (found while exploring past the ones before)' : ''}`);
    for (const id of finding.requirements) {
      const entry = catalogEntry(id);
      out.push(entry ? `Requirement ${id} (${entry.level ?? 'harness'}): ${entry.statement}` : `Requirement ${id}`);
    }
    out.push('', finding.message);
    if (finding.expected !== undefined) out.push(`Expected: ${finding.expected}`);
    if (finding.actual !== undefined) out.push(`Actual:   ${finding.actual}`);
    out.push('', `Reproduce with seed ${check.seed}${finding.path ? `, path ${finding.path}` : ''}${finding.numShrinks !== undefined ? ` (shrunk ${finding.numShrinks} times)` : ''}`);
    if (finding.steps?.length) {
      out.push('Minimal steps:');
      finding.steps.forEach((step, k) => out.push(`  ${k + 1}. ${step}`));
    } else {
      out.push('Minimal steps: (not recorded)');
    }
    if (finding.transcript?.length) {
      const n = finding.transcript.length;
      out.push(`HTTP transcript (${n} exchange${n === 1 ? '' : 's'}, redacted; full in ekso-conformance.json):`);
      for (const exchange of finding.transcript) out.push(`  ${exchangeSummary(exchange)}`);
    }
    out.push(`Replay: ${finding.replay ?? '(no replay command recorded)'}`);
  });
  if (check.established?.length) out.push('', `Explored past these violations, the check still established ${check.established.join(', ')}.`);
  if (check.notEstablished) out.push('', `Not established past them: ${check.notEstablished}.`);
  return out.join('\n');
}

function properties(entries: [string, string | number | undefined][], indent: string): string[] {
  return entries
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '')
    .map(([name, value]) => `${indent}<property${attrs({ name, value })}/>`);
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXmlAttr(String(value))}"`)
    .join('');
}

/** JUnit times are seconds. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
