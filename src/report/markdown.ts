/**
 * `report.md`: the run at a glance for a GitHub job summary (also readable as plain text). Text
 * from the target goes through `md-escape.ts`; catalog statements are ours and kept as written.
 */
import {
  STATUS_LABEL,
  catalogEntry,
  checkCounts,
  formatDuration,
  groupOfCheck,
  groupTitle,
  outcomeOf,
  requirementsByGroup,
  runDurationMs,
  targetLabel,
  violatedBy,
  isBaselined,
} from './facts.js';
import { mdCode, mdFence, mdText } from './md-escape.js';
import { redactReport } from './safety-net.js';
import { findingsOf } from './findings.js';
import type { CheckResult, Finding, Report, RequirementVerdict } from './schema.js';
import { requestText, responseText } from './transcript-format.js';

/** GitHub refuses a job summary over 1 MiB; stay well below it. */
export const MARKDOWN_BUDGET = 900 * 1024;

export function renderMarkdown(input: Report): string {
  const report = redactReport(input);
  const full = render(report, { transcripts: true });
  if (Buffer.byteLength(full, 'utf8') <= MARKDOWN_BUDGET) return full;
  // Transcripts are the bulk; without them the summary still names every failure and its replay.
  return render(report, { transcripts: false });
}

interface RenderOptions {
  transcripts: boolean;
}

function render(report: Report, options: RenderOptions): string {
  const sections = [
    header(report),
    requirementTables(report),
    decisions(report),
    failures(report, options),
    checkList(report, 'inconclusive', 'Inconclusive'),
    checkList(report, 'skipped', 'Skipped checks'),
    baseline(report),
    cleanup(report),
    diagnostics(report),
  ];
  return `${sections.filter((s) => s !== '').join('\n\n')}\n`;
}

function header(report: Report): string {
  const outcome = outcomeOf(report);
  const title =
    `# ekso-conformance: ${outcome.result} (exit ${outcome.code}) — ${report.mode} ${mdCode(targetLabel(report))}, ` +
    `policy ${mdCode(report.policy)}, seed ${mdCode(String(report.seed))}`;
  const exit = `Exit code ${outcome.code}${outcome.derived ? ' (derived from the verdicts)' : ''}: ${outcome.meaning}.` +
    (report.interrupted ? ' **The run was interrupted**; unfinished checks are inconclusive.' : '');
  const s = report.summary;
  const c = checkCounts(report);
  const counts =
    `**Requirements:** ${s.passed} passed · ${s.failed} failed · ${s.skipped} skipped · ${s.inconclusive} inconclusive · ${s.notCovered} not covered. ` +
    `**Checks:** ${report.checks.length} (${c.passed} passed · ${c.failed} failed · ${c.skipped} skipped · ${c.inconclusive} inconclusive) ` +
    `in ${formatDuration(runDurationMs(report))}.`;
  const facts = [
    `${mdText(report.tool.name)} ${mdText(report.tool.version)}`,
    `started ${mdText(report.startedAt)}`,
    ...(report.shard ? [`shard ${report.shard.index}/${report.shard.count}`] : []),
  ].join(' · ');
  return [title, '', exit, '', counts, '', facts].join('\n');
}

function requirementTables(report: Report): string {
  const out = ['## Requirements'];
  const other: string[] = [];
  for (const [group, verdicts] of requirementsByGroup(report)) {
    // The other side's requirements are all skipped by design: folded away, still listed.
    const target = verdicts.every((v) => v.side !== report.mode) ? other : out;
    target.push('', `### ${mdText(group)} — ${groupTitle(group)}`, '', '| ID | Level | Status | Checks | Reason |', '|---|---|---|---|---|');
    for (const v of verdicts) target.push(requirementRow(v));
  }
  if (other.length) {
    out.push('', `<details><summary>${report.mode === 'backend' ? 'SDK' : 'Backend'} requirements (checked by the other mode)</summary>`, ...other, '', '</details>');
  }
  return out.join('\n');
}

function requirementRow(v: RequirementVerdict): string {
  const status = v.status === 'failed' ? `**${STATUS_LABEL.failed}**${v.baselined ? ' (baselined)' : ''}` : `${STATUS_LABEL[v.status]}${v.limits?.length ? ' (limited)' : ''}`;
  const checks = v.checks.map((id) => mdCode(id, { inTable: true })).join(', ');
  return `| ${mdText(v.id)} | ${mdText(v.level)} | ${status} | ${checks} | ${mdText(v.reason ?? '')} |`;
}

function failures(report: Report, options: RenderOptions): string {
  const failed = report.checks.filter((c) => c.status === 'failed');
  if (!failed.length) return '';
  return ['## Failures', ...failed.map((c) => failure(c, report, options))].join('\n\n');
}

function failure(check: CheckResult, report: Report, options: RenderOptions): string {
  const out = [`### ${mdCode(check.id)} — ${mdText(check.title)}${isBaselined(check, report) ? ' (baselined)' : ''}`, ''];
  const findings = findingsOf(check);
  findings.forEach((finding, i) => {
    if (findings.length > 1) {
      out.push(`#### Finding ${i + 1} of ${findings.length}${i ? ' (found while exploring past the ones before)' : ''}`, '');
    }
    out.push(...findingLines(check, finding, options));
    if (i < findings.length - 1) out.push('');
  });
  if (check.established?.length || check.notEstablished) out.push('');
  if (check.established?.length) {
    out.push(`Explored past ${findings.length === 1 ? 'this violation' : 'these violations'}, the check still established ${check.established.map((id) => mdText(id)).join(', ')}.`);
  }
  if (check.notEstablished) out.push(`Not established past ${findings.length === 1 ? 'this violation' : 'them'}: ${mdText(check.notEstablished)}.`);
  return out.join('\n');
}

function findingLines(check: CheckResult, finding: Finding, options: RenderOptions): string[] {
  const out: string[] = [];
  for (const id of finding.requirements) {
    const entry = catalogEntry(id);
    out.push(
      entry
        ? `> **Requirement ${mdText(id)}** (${entry.level ?? 'harness'}): ${entry.statement}`
        : `> **Requirement ${mdText(id)}** (not in the catalog)`,
      '>',
    );
  }
  if (out.at(-1) === '>') out.pop();
  out.push('');
  out.push(mdText(finding.message, { atLineStart: true }), '');
  out.push(`- **Expected:** ${finding.expected !== undefined ? mdText(finding.expected) : '(not recorded)'}`);
  out.push(`- **Actual:** ${finding.actual !== undefined ? mdText(finding.actual) : '(not recorded)'}`);
  out.push(`- **Seed:** ${mdCode(String(check.seed))}${finding.path ? `, **path:** ${mdCode(finding.path)}` : ''}` +
    `${finding.numShrinks !== undefined ? `, shrunk ${finding.numShrinks} times` : ''}` +
    `${check.reproduction ? `, reproduced ${mdText(check.reproduction)}` : ''}`);
  if (finding.replayPath) out.push(`- **Replay path:** ${mdCode(finding.replayPath)}`);
  out.push('', '**Minimal steps**', '');
  if (finding.steps?.length) finding.steps.forEach((step, i) => out.push(`${i + 1}. ${mdText(step, { atLineStart: true })}`));
  else out.push('(not recorded)');
  if (finding.transcript?.length) {
    out.push('', transcript(finding.transcript, options));
  }
  out.push('', '**Replay**', '', mdFence(finding.replay ?? '# no replay command recorded', 'sh'));
  return out;
}

function transcript(exchanges: NonNullable<Finding['transcript']>, options: RenderOptions): string {
  const summary = `HTTP transcript (${exchanges.length} exchange${exchanges.length === 1 ? '' : 's'}, redacted)`;
  if (!options.transcripts) return `${summary}: omitted to fit the job summary; see report.html or ekso-conformance.json.`;
  const text = exchanges
    .map((e, i) => `--- exchange ${i + 1} · ${e.at} · ${Math.round(e.durationMs)} ms ---\n${requestText(e)}\n\n${responseText(e)}`)
    .join('\n\n');
  // The blank lines around the fence let GitHub render Markdown inside the HTML block.
  return ['<details>', `<summary>${summary}</summary>`, '', mdFence(text, 'http'), '', '</details>'].join('\n');
}

/** Verdicts that need more than a word: how each failed, inconclusive or qualified verdict was decided. */
function decisions(report: Report): string {
  const decided = report.requirements.filter(
    (v) => v.side === report.mode && v.decidedBy?.length && (v.status === 'failed' || v.status === 'inconclusive' || v.limits?.length),
  );
  if (!decided.length) return '';
  const out = ['## How these verdicts were decided', ''];
  for (const v of decided) {
    out.push(`- **${mdText(v.id)}** ${STATUS_LABEL[v.status]}${v.limits?.length ? ' (limited)' : ''}:`);
    for (const line of v.decidedBy ?? []) out.push(`  - ${mdText(line)}`);
    for (const limit of v.limits ?? []) out.push(`  - limit: ${mdText(limit)}`);
  }
  return out.join('\n');
}

function checkList(report: Report, status: 'inconclusive' | 'skipped', title: string): string {
  const checks = report.checks.filter((c) => c.status === status);
  if (!checks.length) return '';
  const items = checks.map(
    (c) => `- ${mdCode(c.id)} (${c.requirements.map((id) => mdText(id)).join(', ')}, ${mdText(groupOfCheck(c))}): ${mdText(c.message ?? c.status)}`,
  );
  return [`## ${title}`, '', ...items].join('\n');
}

function baseline(report: Report): string {
  const b = report.baseline;
  if (!b) return '';
  const list = (ids: string[]) => (ids.length ? ids.map((id) => mdCode(id)).join(', ') : 'none');
  return [
    '## Baseline',
    '',
    `- **File:** ${mdCode(b.file)}`,
    `- **Expected failures:** ${list(b.expected)}`,
    `- **Stale (now passing; remove them):** ${list(b.stale)}`,
  ].join('\n');
}

function cleanup(report: Report): string {
  const { minted, revoked, leaked } = report.cleanup;
  const warning = leaked > 0 ? ` **${leaked} API key${leaked === 1 ? ' was' : 's were'} not revoked: revoke them by hand.**` : '';
  return `## Cleanup\n\nAPI keys minted ${minted} · revoked ${revoked} · leaked ${leaked}.${warning}`;
}

function diagnostics(report: Report): string {
  const notes = report.diagnostics ?? [];
  if (!notes.length) return '';
  // Multi-line notes (log tails) keep their lines in a code block; one-liners stay a list item.
  const items = notes.map((n) => (/[\r\n]/.test(n.trim()) ? mdFence(n.trim()) : `- ${mdText(n, { atLineStart: true })}`));
  return ['## Diagnostics', ...items].join('\n\n');
}
