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
import type { CheckResult, Report, RequirementVerdict } from './schema.js';
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
  const status = v.status === 'failed' ? `**${STATUS_LABEL.failed}**${v.baselined ? ' (baselined)' : ''}` : STATUS_LABEL[v.status];
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
  for (const id of violatedBy(check)) {
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
  if (check.message) out.push(mdText(check.message, { atLineStart: true }), '');
  out.push(`- **Expected:** ${check.expected !== undefined ? mdText(check.expected) : '(not recorded)'}`);
  out.push(`- **Actual:** ${check.actual !== undefined ? mdText(check.actual) : '(not recorded)'}`);
  out.push(`- **Seed:** ${mdCode(String(check.seed))}${check.path ? `, **path:** ${mdCode(check.path)}` : ''}` +
    `${check.numShrinks !== undefined ? `, shrunk ${check.numShrinks} times` : ''}` +
    `${check.reproduction ? `, reproduced ${mdText(check.reproduction)}` : ''}`);
  if (check.replayPath) out.push(`- **Replay path:** ${mdCode(check.replayPath)}`);
  out.push('', '**Minimal steps**', '');
  if (check.steps?.length) check.steps.forEach((step, i) => out.push(`${i + 1}. ${mdText(step, { atLineStart: true })}`));
  else out.push('(not recorded)');
  if (check.transcript?.length) {
    out.push('', transcript(check, options));
  }
  out.push('', '**Replay**', '', mdFence(check.replay ?? '# no replay command recorded', 'sh'));
  return out.join('\n');
}

function transcript(check: CheckResult, options: RenderOptions): string {
  const exchanges = check.transcript ?? [];
  const summary = `HTTP transcript (${exchanges.length} exchange${exchanges.length === 1 ? '' : 's'}, redacted)`;
  if (!options.transcripts) return `${summary}: omitted to fit the job summary; see report.html or ekso-conformance.json.`;
  const text = exchanges
    .map((e, i) => `--- exchange ${i + 1} · ${e.at} · ${Math.round(e.durationMs)} ms ---\n${requestText(e)}\n\n${responseText(e)}`)
    .join('\n\n');
  // The blank lines around the fence let GitHub render Markdown inside the HTML block.
  return ['<details>', `<summary>${summary}</summary>`, '', mdFence(text, 'http'), '', '</details>'].join('\n');
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
