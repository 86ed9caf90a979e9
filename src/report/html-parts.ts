/**
 * Building blocks of report.html: escaping-by-default helpers and the failure section (H-03:
 * statements, expected vs actual, seed/path, minimal steps, transcript, replay command).
 */
import { escapeMarkup } from './escape.js';
import { STATUS_LABEL, catalogEntry, isBaselined } from './facts.js';
import { findingsOf } from './findings.js';
import type { CheckResult, Finding, Report, RequirementStatus } from './schema.js';
import { headerLines, prettyBody, type Exchange } from './transcript-format.js';

/** Bodies can be whole HTML error pages; the JSON report keeps them whole. */
const HTML_BODY_LIMIT = 64 * 1024;

export const esc = escapeMarkup;

/** A stable, attribute-safe anchor for a check, whatever characters its id holds. */
export function checkAnchor(id: string): string {
  return `check-${id.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.codePointAt(0)?.toString(16) ?? ''}_`)}`;
}

export function statusBadge(status: RequirementStatus, extra = ''): string {
  return `<span class="st st-${status}">${esc(STATUS_LABEL[status] ?? status)}${extra ? ` ${esc(extra)}` : ''}</span>`;
}

/**
 * A catalog statement (our text, trusted): escaped like everything else, then its Markdown-style
 * `code` spans become <code>. The replacement runs on escaped text, so it cannot inject markup.
 */
export function statementHtml(statement: string): string {
  return esc(statement).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function failureArticle(check: CheckResult, report: Report): string {
  const parts: string[] = [
    `<article class="failure" id="${esc(checkAnchor(check.id))}">`,
    `<h3><code>${esc(check.id)}</code> — ${esc(check.title)}${isBaselined(check, report) ? ' <span class="st st-skipped">baselined</span>' : ''}</h3>`,
  ];
  const findings = findingsOf(check);
  findings.forEach((finding, i) => {
    if (findings.length > 1) parts.push(`<h4>Finding ${i + 1} of ${findings.length}${i ? ' <span class="muted">(found while exploring past the ones before)</span>' : ''}</h4>`);
    parts.push(...findingHtml(check, finding));
  });
  if (check.established?.length) {
    parts.push(`<p>Explored past ${findings.length === 1 ? 'this violation' : 'these violations'}, the check still established ${esc(check.established.join(', '))}.</p>`);
  }
  if (check.notEstablished) parts.push(`<p class="muted">Not established past them: ${esc(check.notEstablished)}.</p>`);
  parts.push('</article>');
  return parts.join('\n');
}

function findingHtml(check: CheckResult, finding: Finding): string[] {
  const parts: string[] = [];
  for (const id of finding.requirements) {
    const entry = catalogEntry(id);
    parts.push(
      `<blockquote class="req"><strong>Requirement ${esc(id)}</strong>` +
        (entry ? ` (${esc(entry.level ?? 'harness')}): ${statementHtml(entry.statement)}` : ' (not in the catalog)') +
        '</blockquote>',
    );
  }
  parts.push(`<p>${esc(finding.message)}</p>`);
  parts.push(
    '<div class="ea">',
    `<div><h4>Expected</h4><pre>${esc(finding.expected ?? '(not recorded)')}</pre></div>`,
    `<div><h4>Actual</h4><pre>${esc(finding.actual ?? '(not recorded)')}</pre></div>`,
    '</div>',
    `<p>${coordinates(check, finding)}</p>`,
    '<h4>Minimal steps</h4>',
    finding.steps?.length ? `<ol>${finding.steps.map((s) => `<li>${esc(s)}</li>`).join('')}</ol>` : '<p class="muted">(not recorded)</p>',
  );
  const exchanges = finding.transcript ?? [];
  const count = `${exchanges.length} exchange${exchanges.length === 1 ? '' : 's'}, redacted`;
  if (exchanges.length) {
    // Open by default (it is the evidence), collapsible because a transcript can be long.
    parts.push(`<details open><summary><h4>HTTP transcript <span class="muted">(${count})</span></h4></summary>`);
    parts.push(exchanges.map(exchangeHtml).join('\n'), '</details>');
  } else {
    parts.push('<h4>HTTP transcript</h4>', '<p class="muted">(not recorded)</p>');
  }
  parts.push('<h4>Replay</h4>', `<pre><code>${esc(finding.replay ?? '(no replay command recorded)')}</code></pre>`);
  return parts;
}

function coordinates(check: CheckResult, finding: Finding): string {
  const facts = [`seed <code>${esc(String(check.seed))}</code>`];
  if (finding.path) facts.push(`path <code>${esc(finding.path)}</code>`);
  if (finding.numShrinks !== undefined) facts.push(`shrunk ${esc(String(finding.numShrinks))} times`);
  facts.push(`${esc(String(check.runs))} run${check.runs === 1 ? '' : 's'}`);
  if (check.reproduction) facts.push(`reproduced ${esc(check.reproduction)}`);
  if (finding.replayPath) facts.push(`replay path <code>${esc(finding.replayPath)}</code>`);
  return facts.join(' · ');
}

export function exchangeHtml(exchange: Exchange, index: number): string {
  const req = exchange.request;
  const request = [
    `<div class="request"><div class="label">#${index + 1} request · ${esc(exchange.at)}</div>`,
    `<pre><span class="head">${esc(req.method)} ${esc(req.url)}</span>${headersHtml(req.headers)}</pre>`,
    req.body ? `<pre>${esc(prettyBody(req.body, HTML_BODY_LIMIT))}</pre>` : '',
    '</div>',
  ];
  const res = exchange.response;
  const klass = res ? `http-${Math.floor(res.status / 100)}xx` : 'transport';
  const response = [
    `<div class="response ${klass}"><div class="label">response · ${esc(String(Math.round(exchange.durationMs)))} ms</div>`,
    res ? `<pre><span class="head">HTTP ${esc(String(res.status))}</span>${headersHtml(res.headers)}</pre>` : '',
    res?.body ? `<pre>${esc(prettyBody(res.body, HTML_BODY_LIMIT))}</pre>` : '',
    exchange.error ? `<pre><span class="head">transport error</span>\n${esc(exchange.error)}</pre>` : '',
    !res && !exchange.error ? '<pre class="muted">(no response recorded)</pre>' : '',
    '</div>',
  ];
  return `<div class="exchange">${request.join('')}${response.join('')}</div>`;
}

function headersHtml(headers: Record<string, string>): string {
  const lines = headerLines(headers);
  return lines.length ? `\n${esc(lines.join('\n'))}` : '';
}
