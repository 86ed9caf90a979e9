/**
 * `report.html`: one self-contained page (CONTRACT §6) with the run facts, the requirement matrix,
 * every failure in full, the checks, cleanup and diagnostics.
 *
 * The report comes from an untrusted target, so every value is escaped (`esc`), and a
 * Content-Security-Policy allows nothing but this page's own stylesheet (by hash): even markup
 * that slipped through could neither run a script nor load anything.
 */
import { createHash } from 'node:crypto';
import {
  STATUS_LABEL,
  catalogEntry,
  checkCounts,
  checksByGroup,
  formatDuration,
  groupTitle,
  outcomeOf,
  requirementsByGroup,
  runDurationMs,
  targetLabel,
} from './facts.js';
import { REPORT_CSS } from './html-style.js';
import { checkAnchor, esc, failureArticle, statementHtml, statusBadge } from './html-parts.js';
import { redactReport } from './safety-net.js';
import { REQUIREMENT_STATUSES, type CheckResult, type Report, type RequirementVerdict } from './schema.js';

const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(REPORT_CSS, 'utf8').digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function renderHtml(input: Report): string {
  const report = redactReport(input);
  const outcome = outcomeOf(report);
  const title = `ekso-conformance: ${outcome.result} — ${targetLabel(report)}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    header(report),
    '<main>',
    matrix(report),
    failures(report),
    checkLists(report),
    checksTable(report),
    baseline(report),
    cleanup(report),
    diagnostics(report),
    '</main>',
    '</body>',
    '</html>',
    '',
  ]
    .filter((part) => part !== '')
    .join('\n');
}

function header(report: Report): string {
  const outcome = outcomeOf(report);
  const resultStatus = outcome.code === 0 ? 'passed' : outcome.code === 4 ? 'inconclusive' : 'failed';
  const facts: [string, string][] = [
    ['Mode', report.mode],
    ['Target', targetLabel(report)],
    ['Policy', report.policy],
    ['Seed', String(report.seed)],
    ['Exit code', `${outcome.code}${outcome.derived ? ' (derived from the verdicts)' : ''}: ${outcome.meaning}`],
    ['Started', report.startedAt],
    ['Finished', report.finishedAt],
    ['Duration', formatDuration(runDurationMs(report))],
    ['Tool', `${report.tool.name} ${report.tool.version}`],
  ];
  if (report.shard) facts.push(['Shard', `${report.shard.index}/${report.shard.count}`]);
  if (report.interrupted) facts.push(['Interrupted', 'yes: unfinished checks are inconclusive']);
  const s = report.summary;
  const c = checkCounts(report);
  return [
    '<header>',
    `<h1>ekso-conformance <span class="result st-${resultStatus}">${esc(outcome.result)}</span></h1>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`,
    `<p class="counts"><strong>Requirements:</strong> ${countSpans([
      [s.passed, 'passed'],
      [s.failed, 'failed'],
      [s.skipped, 'skipped'],
      [s.inconclusive, 'inconclusive'],
      [s.notCovered, 'not covered'],
    ])}</p>`,
    `<p class="counts"><strong>Checks:</strong> ${countSpans([
      [report.checks.length, 'run'],
      [c.passed, 'passed'],
      [c.failed, 'failed'],
      [c.skipped, 'skipped'],
      [c.inconclusive, 'inconclusive'],
    ])}</p>`,
    '</header>',
  ].join('\n');
}

function countSpans(counts: [number, string][]): string {
  return counts.map(([n, label]) => `<span>${esc(String(n))} ${esc(label)}</span>`).join('');
}

function matrix(report: Report): string {
  const counts = new Map(REQUIREMENT_STATUSES.map((s) => [s, report.requirements.filter((v) => v.status === s).length]));
  // The checkboxes must precede the table as siblings for the `:checked ~ table` rules to apply.
  const toggles = REQUIREMENT_STATUSES.map((s) => `<input type="checkbox" class="f" id="show-${s}" checked>`).join('');
  const labels = REQUIREMENT_STATUSES.map(
    (s) => `<label for="show-${s}" class="st st-${s}">${esc(STATUS_LABEL[s])} (${counts.get(s) ?? 0})</label>`,
  ).join('');
  const bodies = requirementsByGroup(report).map(
    ([group, verdicts]) =>
      `<tbody><tr class="group"><th colspan="6">${esc(group)} — ${esc(groupTitle(group))}</th></tr>\n` +
      verdicts.map((v) => requirementRow(v, report)).join('\n') +
      '</tbody>',
  );
  return [
    '<section id="requirements">',
    '<h2>Requirements</h2>',
    `<div class="filterable">${toggles}`,
    `<div class="filters">Show: ${labels}</div>`,
    '<table class="matrix"><thead><tr><th>ID</th><th>Level</th><th>Status</th><th>Statement</th><th>Checks</th><th>Reason</th></tr></thead>',
    ...bodies,
    '</table></div>',
    '</section>',
  ].join('\n');
}

function requirementRow(v: RequirementVerdict, report: Report): string {
  const entry = catalogEntry(v.id);
  const known = new Set(report.checks.map((c) => c.id));
  const checks = v.checks
    .map((id) => (known.has(id) ? `<a href="#${esc(checkAnchor(id))}"><code>${esc(id)}</code></a>` : `<code>${esc(id)}</code>`))
    .join(', ');
  return (
    `<tr class="r-${esc(v.status)}"><td><code>${esc(v.id)}</code></td><td>${esc(v.level)}</td>` +
    `<td>${statusBadge(v.status, v.baselined ? '(baselined)' : v.limits?.length ? '(limited)' : '')}</td>` +
    `<td>${entry ? statementHtml(entry.statement) : '<span class="muted">(not in the catalog)</span>'}</td>` +
    `<td>${checks}</td><td>${esc(v.reason ?? '')}${decided(v)}</td></tr>`
  );
}

/** Which observation decided a verdict that needs more than a word (failed, inconclusive, limited). */
function decided(v: RequirementVerdict): string {
  if (!v.decidedBy?.length || !(v.status === 'failed' || v.status === 'inconclusive' || v.limits?.length)) return '';
  return `<details class="decided"><summary>decided by</summary><ul class="plain">${v.decidedBy.map((line) => `<li>${esc(line)}</li>`).join('')}</ul></details>`;
}

function failures(report: Report): string {
  const failed = report.checks.filter((c) => c.status === 'failed');
  if (!failed.length) return '';
  return ['<section id="failures">', `<h2>Failures (${failed.length})</h2>`, ...failed.map((c) => failureArticle(c, report)), '</section>'].join('\n');
}

function checkLists(report: Report): string {
  const list = (status: 'inconclusive' | 'skipped', title: string) => {
    const checks = report.checks.filter((c) => c.status === status);
    if (!checks.length) return '';
    const items = checks.map(
      (c) => `<li><code>${esc(c.id)}</code> (${esc(c.requirements.join(', '))}): ${esc(c.message ?? c.status)}</li>`,
    );
    return `<section id="${status}"><h2>${esc(title)} (${checks.length})</h2><ul class="plain">${items.join('')}</ul></section>`;
  };
  return [list('inconclusive', 'Inconclusive'), list('skipped', 'Skipped checks')].filter(Boolean).join('\n');
}

function checksTable(report: Report): string {
  if (!report.checks.length) return '';
  const rows = checksByGroup(report).flatMap(([, checks]) => checks.map(checkRow));
  return [
    '<section id="checks">',
    '<h2>Checks</h2>',
    '<table><thead><tr><th>Check</th><th>Title</th><th>Group</th><th>Requirements</th><th>Status</th><th>Runs</th><th>Duration</th><th>Seed</th><th>Path</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    '</section>',
  ].join('\n');
}

function checkRow(c: CheckResult): string {
  // Failed checks have an article below, so their id links to it; the others carry the anchor.
  const id = c.status === 'failed' ? `<a href="#${esc(checkAnchor(c.id))}"><code>${esc(c.id)}</code></a>` : `<code id="${esc(checkAnchor(c.id))}">${esc(c.id)}</code>`;
  return (
    `<tr class="r-${esc(c.status)}"><td>${id}</td><td>${esc(c.title)}</td><td>${esc(c.group)}</td>` +
    `<td>${esc(c.requirements.join(', '))}</td><td>${statusBadge(c.status)}</td>` +
    `<td class="num">${esc(String(c.runs))}</td><td class="num">${esc(formatDuration(c.durationMs))}</td>` +
    `<td class="num"><code>${esc(String(c.seed))}</code></td><td><code>${esc(c.path ?? '')}</code></td></tr>`
  );
}

function baseline(report: Report): string {
  const b = report.baseline;
  if (!b) return '';
  const list = (ids: string[]) => (ids.length ? ids.map((id) => `<code>${esc(id)}</code>`).join(', ') : 'none');
  return [
    '<section id="baseline"><h2>Baseline</h2><dl class="facts">',
    `<dt>File</dt><dd><code>${esc(b.file)}</code></dd>`,
    `<dt>Expected failures</dt><dd>${list(b.expected)}</dd>`,
    `<dt>Stale (now passing)</dt><dd>${b.stale.length ? `<span class="warn">${list(b.stale)}</span>` : 'none'}</dd>`,
    '</dl></section>',
  ].join('\n');
}

function cleanup(report: Report): string {
  const { minted, revoked, leaked } = report.cleanup;
  const leak = leaked > 0 ? ` <span class="warn">${esc(String(leaked))} API key(s) not revoked: revoke them by hand.</span>` : '';
  return `<section id="cleanup"><h2>Cleanup</h2><p>API keys minted ${esc(String(minted))} · revoked ${esc(String(revoked))} · leaked ${esc(String(leaked))}.${leak}</p></section>`;
}

function diagnostics(report: Report): string {
  const notes = report.diagnostics ?? [];
  if (!notes.length) return '';
  return `<section id="diagnostics"><h2>Diagnostics</h2>${notes.map((n) => `<pre>${esc(n)}</pre>`).join('\n')}</section>`;
}
