/**
 * Issue 11 point 12: a URL (or an e-mail address) a target put in a message, an expected/actual
 * text, a step or a diagnostic is not a link in report.md: it is written as a code span, which no
 * linkifying viewer turns into a link. Checked on the markdown text: outside code spans and code
 * blocks nothing is left that GFM's autolinks (or markdown-it's linkify) would pick up. The HTML
 * report makes links only of its own anchors, and JUnit has none.
 */
import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { mdText } from '../../src/report/md-escape.js';
import type { Report } from '../../src/report/schema.js';

const URLS = ['http://evil.example/login?next=1', 'https://evil.example', 'javascript://x%0aalert(1)', 'www.evil.example/path', 'ftp://files.evil.example', 'phish@evil.example'];
const LINKY = /[A-Za-z][A-Za-z0-9+.-]*:\/\/|\bwww\.|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]/;

/** The markdown without its fenced blocks and code spans: what a viewer could linkify. */
function prose(md: string): string {
  return md
    .replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '')
    .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '')
    .replace(/<details>[\s\S]*?<\/details>/g, (block) => block.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, ''));
}

function hostile(): Report {
  const report = sampleReport();
  const say = (what: string) => `${what}: see ${URLS.join(' and ')} now`;
  const failed = report.checks.find((c) => c.status === 'failed')!;
  Object.assign(failed, { message: say('message'), expected: say('expected'), actual: say('actual'), steps: [say('step')] });
  report.diagnostics = [say('diagnostic')];
  for (const r of report.requirements) if (r.status === 'failed') r.reason = say('reason');
  return report;
}

describe('report.md: URLs from a target are not links', () => {
  it('mdText writes each URL and address as a code span, keeping it readable', () => {
    for (const url of URLS) {
      const text = mdText(`go to ${url}, quickly (or ${url}).`);
      expect(text).toBe(`go to \`${url}\`, quickly (or \`${url}\`).`);
      expect(prose(text)).not.toMatch(LINKY);
    }
    // Ordinary text is unchanged.
    expect(mdText('invalid_grant for RT#1: a & b')).toBe('invalid_grant for RT#1: a & b');
  });

  it('the whole report: no linkifiable text outside code', () => {
    const md = renderMarkdown(hostile());
    for (const url of URLS) expect(md).toContain(url);
    const left = prose(md).split('\n').filter((line) => LINKY.test(line));
    expect(left).toEqual([]);
  });

  it('the HTML report links only to its own anchors; JUnit has no links', () => {
    const report = hostile();
    const html = renderHtml(report);
    const hrefs = [...html.matchAll(/\bhref="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.every((h) => h.startsWith('#')), hrefs.join(' ')).toBe(true);
    expect(html).not.toMatch(/\bsrc="http/);
    expect(renderJunit(report)).not.toMatch(/href=/);
  });
});
