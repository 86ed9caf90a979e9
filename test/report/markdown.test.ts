import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import { MARKDOWN_BUDGET, renderMarkdown } from '../../src/report/markdown.js';
import { mdCode, mdFence, mdText } from '../../src/report/md-escape.js';
import { RAW_KEY, hostileReport } from './helpers.js';

/** Table cells of a GFM row: split on pipes that are not backslash-escaped. */
function cells(row: string): string[] {
  return row.split(/(?<!\\)\|/).slice(1, -1);
}

/** The document without its fenced code blocks (fences of three or more backticks). */
function outsideFences(md: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of md.split('\n')) {
    const marker = /^(`{3,})/.exec(line)?.[1];
    if (fence === null && marker) fence = marker;
    else if (fence !== null && line === fence) fence = null;
    else if (fence === null) out.push(line);
  }
  return out.join('\n');
}

describe('renderMarkdown', () => {
  const md = renderMarkdown(sampleReport());

  it('opens with the overall result, mode, target, policy, seed and the overall result with its exit code', () => {
    const [title, , exit] = md.split('\n');
    expect(title).toBe('# ekso-conformance: FAILED (exit 1) — backend `http://127.0.0.1:7070`, policy `strict`, seed `1234567`');
    expect(exit).toBe('Exit code 1: at least one requirement failed.');
    expect(md).toMatch(/\*\*Requirements:\*\* 5 passed · 2 failed · \d+ skipped · 3 inconclusive · \d+ not covered/);
  });

  it('has a requirement table per group with text status markers', () => {
    expect(md).toContain('### RT — Backend: refresh tokens and rotation');
    expect(md).toContain('| ID | Level | Status | Checks | Reason |');
    const rt04 = md.split('\n').find((l) => l.startsWith('| RT-04 '))!;
    expect(cells(rt04).map((c) => c.trim())).toEqual([
      'RT-04',
      'MUST',
      '**FAIL**',
      '`RT-replay-revokes-family`',
      "RT-replay-revokes-family: after a replay of RT#1 the family's newest refresh token RT#2 still rotated",
    ]);
    expect(md).toMatch(/\| SDK-01 \| MUST \| SKIP \|/);
    expect(md).toMatch(/\| AK-02 \| MUST \| NOT COVERED \|/);
    expect(md).not.toMatch(/[\u{1F300}-\u{1FAFF}\u2705\u274C]/u);
  });

  it('details each failure: requirement statement, expected/actual, steps, transcript, replay', () => {
    const failures = md.slice(md.indexOf('## Failures'));
    expect(failures).toContain('### `RT-replay-revokes-family` — Replaying a superseded refresh token revokes the whole family');
    expect(failures).toContain('> **Requirement RT-04** (MUST): Presenting a superseded refresh token (a replay) revokes the whole family');
    expect(failures).toContain('- **Expected:** 400 invalid_grant for RT#2 (the family is revoked)');
    expect(failures).toContain('- **Actual:** 200 with a new token pair');
    expect(failures).toContain('- **Seed:** `1234567`, **path:** `56:2`, shrunk 7 times');
    expect(failures).toContain('1. obtain a token pair (family F1): RT#1\n2. refresh with RT#1 → 200, RT#2');
    expect(failures).toContain('<details>\n<summary>HTTP transcript (3 exchanges, redacted)</summary>\n\n```http\n');
    expect(failures).toContain('"error": "invalid_grant"');
    expect(failures).toContain(
      '**Replay**\n\n```sh\nnpx ekso-conformance --base-url http://127.0.0.1:7070 --check RT-replay-revokes-family --seed 1234567 --replay-path 56:2:0\n```',
    );
    expect(failures).toContain('> **Requirement RT-11** (SHOULD)');
  });

  it('lists inconclusive and skipped checks, cleanup counts and diagnostics', () => {
    expect(md).toContain('## Inconclusive\n\n- `ERR-unauthenticated` (ERR-01, ERR): timeout after 30 s');
    expect(md).toContain('## Skipped checks\n\n- `DF-device-flow` (DF-02, DF-03, DF): no --device-approve-command');
    expect(md).toContain('API keys minted 6 · revoked 6 · leaked 0.');
    expect(md).toContain('## Diagnostics\n\n```\nreference backend log tail:\nPOST /token 200');
  });

  it('keeps untrusted text from breaking tables, code spans, fences or blocks', () => {
    const hostile = hostileReport();
    const text = renderMarkdown(hostile);
    expect(text).not.toContain(RAW_KEY);
    // Outside code blocks (where GitHub shows markup as text) no raw tag survives.
    const prose = outsideFences(text);
    expect(prose).toContain('\\<script>');
    expect(prose).not.toMatch(/(?<!\\)<(script|img)/);
    // The reason quotes the hostile message: still exactly five cells.
    const rt04 = text.split('\n').find((l) => l.startsWith('| RT-04 '))!;
    expect(cells(rt04)).toHaveLength(5);
    expect(rt04).toContain('\\`tick\\`');
    expect(rt04).toContain('\\| pipe');
    // The body's ``` cannot close the transcript fence: it is opened with four backticks.
    expect(text).toContain('````http\n');
    // Steps that look like blocks stay list items.
    expect(text).toContain('2. \\- looks like a list\n3. \\# looks like a heading');
  });

  it('drops transcripts rather than exceed the job-summary size limit', () => {
    const base = sampleReport();
    const big = 'x'.repeat(3000);
    const failed = base.checks.find((c) => c.status === 'failed')!;
    const transcript = Array.from({ length: 400 }, () => ({ ...failed.transcript![0]!, request: { ...failed.transcript![0]!.request, url: big } }));
    const checks = base.checks.map((c) => (c === failed ? { ...c, transcript } : c));
    const text = renderMarkdown(sampleReport({ checks }));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MARKDOWN_BUDGET);
    expect(text).toContain('HTTP transcript (400 exchanges, redacted): omitted to fit the job summary');
    expect(text).toContain('**Replay**');
  });
});

describe('markdown escaping', () => {
  it('escapes inline markup but keeps ordinary text readable', () => {
    expect(mdText('invalid_grant a & b RT#1 x.y')).toBe('invalid_grant a & b RT#1 x.y');
    expect(mdText('_em_ *b* <i> [l](u) a|b `c` &amp; ~s~')).toBe('\\_em_ \\*b\\* \\<i> \\[l\\](u) a\\|b \\`c\\` \\&amp; \\~s\\~');
    expect(mdText('- item', { atLineStart: true })).toBe('\\- item');
    expect(mdText('12. item', { atLineStart: true })).toBe('12\\. item');
    expect(mdText('line\nbreak')).toBe('line break');
  });

  it('sizes code spans and fences past any backtick run', () => {
    expect(mdCode('plain')).toBe('`plain`');
    expect(mdCode('a `b` c')).toBe('`` a `b` c ``');
    expect(mdCode('a|b', { inTable: true })).toBe('`a\\|b`');
    expect(mdFence('x\n````\ny', 'sh')).toBe('`````sh\nx\n````\ny\n`````');
  });
});
