import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import { renderHtml } from '../../src/report/html.js';
import { ATTR_BREAK, RAW_JWT, RAW_KEY, SCRIPT, hostileReport } from './helpers.js';

/**
 * Anything that would make the browser fetch or run something not in the file. Real tags are
 * the only `<` left unescaped, so scanning them (and the stylesheet) covers every reference.
 */
function externalReferences(html: string): string[] {
  const found: string[] = [];
  const forbiddenTags = /^(script|link|img|iframe|frame|object|embed|video|audio|source|base|meta-refresh)$/i;
  const urlAttrs = /^(src|href|action|formaction|srcset|poster|data|background|xlink:href)$/i;
  for (const [tag, name, attrs] of html.matchAll(/<([a-zA-Z][\w-]*)([^>]*)>/g)) {
    if (forbiddenTags.test(name ?? '')) found.push(tag);
    for (const [attr, attrName, , value] of (attrs ?? '').matchAll(/([^\s=]+)\s*=\s*(["'])(.*?)\2/g)) {
      if (urlAttrs.test(attrName ?? '') && !(value ?? '').startsWith('#')) found.push(attr);
      if (/^on/i.test(attrName ?? '')) found.push(attr);
      if (/^style$/i.test(attrName ?? '') && /url\s*\(|@import/i.test(value ?? '')) found.push(attr);
      if (/^http-equiv$/i.test(attrName ?? '') && /refresh/i.test(value ?? '')) found.push(attr);
    }
  }
  for (const [, css] of html.matchAll(/<style>([\s\S]*?)<\/style>/g)) {
    found.push(...((css ?? '').match(/@import|url\s*\(|https?:/gi) ?? []));
  }
  return found;
}

describe('the external-reference scan used by these tests', () => {
  it('catches what it is meant to catch', () => {
    const bad = '<img src="https://x/y.png"><a href="http://x">x</a><link rel="stylesheet" href="s.css"><script></script>' +
      '<div onclick="x()"></div><style>@import "a.css"; b { background: url(c.png) }</style>';
    expect(externalReferences(bad).length).toBeGreaterThanOrEqual(8);
    expect(externalReferences('<a href="#local">x</a><p>&lt;img src=x&gt;</p>')).toEqual([]);
  });
});

describe('renderHtml', () => {
  const report = sampleReport();
  const html = renderHtml(report);

  it('is one self-contained document: inline CSS, no script, no external resource', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(externalReferences(html)).toEqual([]);
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
  });

  it('locks the page down with a CSP that allows only its own stylesheet', () => {
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(css, 'utf8').digest('base64');
    expect(html).toContain(`default-src &#39;none&#39;; style-src &#39;sha256-${hash}&#39;`);
  });

  it('has a header with the run facts', () => {
    expect(html).toContain('<span class="result st-failed">FAILED</span>');
    for (const fact of ['<dt>Mode</dt><dd>backend</dd>', '<dt>Target</dt><dd>http://127.0.0.1:7070</dd>', '<dt>Policy</dt><dd>strict</dd>', '<dt>Seed</dt><dd>1234567</dd>']) {
      expect(html).toContain(fact);
    }
    expect(html).toContain('<dt>Exit code</dt><dd>1: at least one requirement failed</dd>');
  });

  it('has a colour-coded requirement matrix grouped by group, with status filters that need no script', () => {
    expect(html).toContain('<tr class="group"><th colspan="6">RT — Backend: refresh tokens and rotation</th></tr>');
    for (const v of report.requirements) expect(html).toContain(`<tr class="r-${v.status}"><td><code>${v.id}</code></td>`);
    expect(html).toMatch(/<tr class="r-failed"><td><code>RT-04<\/code><\/td><td>MUST<\/td><td><span class="st st-failed">FAIL<\/span><\/td><td>Presenting a superseded refresh token/);
    expect(html).toContain('<a href="#check-RT-replay-revokes-family"><code>RT-replay-revokes-family</code></a>');
    expect(html).toContain('<input type="checkbox" class="f" id="show-passed" checked>');
    expect(html).toContain('#show-failed:not(:checked) ~ table .r-failed { display: none; }');
    // Catalog statements keep their code spans.
    expect(html).toContain('Token responses carry <code>Cache-Control: no-store</code>.');
  });

  it('shows each failure with statements, expected/actual, steps, transcript blocks and the replay command', () => {
    const article = html.slice(html.indexOf('<article class="failure" id="check-RT-replay-revokes-family">'));
    const failure = article.slice(0, article.indexOf('</article>'));
    expect(failure).toContain('<strong>Requirement RT-04</strong> (MUST): Presenting a superseded refresh token');
    expect(failure).toContain('<h4>Expected</h4><pre>400 invalid_grant for RT#2 (the family is revoked)</pre>');
    expect(failure).toContain('<h4>Actual</h4><pre>200 with a new token pair</pre>');
    expect(failure).toContain('seed <code>1234567</code> · path <code>56:2</code> · shrunk 7 times');
    expect(failure).toContain('<li>refresh with RT#1 again (replay) → 400 invalid_grant</li>');
    expect(failure.match(/<div class="exchange">/g)).toHaveLength(3);
    expect(failure).toContain('<span class="head">POST http://127.0.0.1:7070/token</span>\ncontent-type: application/x-www-form-urlencoded');
    expect(failure).toContain('<div class="response http-4xx">');
    expect(failure).toContain('<span class="head">HTTP 400</span>\ncontent-type: application/json');
    expect(failure).toContain('&quot;error&quot;: &quot;invalid_grant&quot;');
    expect(failure).toContain('<h4>Replay</h4>\n<pre><code>npx ekso-conformance --base-url http://127.0.0.1:7070 --check RT-replay-revokes-family');
  });

  it('lists checks with runs, duration, seed and path, plus cleanup and diagnostics', () => {
    expect(html).toMatch(/<code id="check-ERR-unauthenticated">ERR-unauthenticated<\/code>.*<td class="num">12<\/td><td class="num">30\.0 s<\/td><td class="num"><code>1234567<\/code><\/td><td><code>12<\/code><\/td>/);
    expect(html).toContain('API keys minted 6 · revoked 6 · leaked 0.');
    expect(html).toContain('<pre>reference backend log tail:\nPOST /token 200');
    expect(html).toContain('<section id="inconclusive">');
    expect(html).toContain('<section id="skipped">');
  });

  it('escapes markup injected by the target everywhere', () => {
    const hostile = renderHtml(hostileReport());
    expect(externalReferences(hostile)).toEqual([]);
    expect(hostile).not.toContain(SCRIPT);
    expect(hostile).not.toContain(ATTR_BREAK);
    expect(hostile).toContain('body &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(hostile).toContain('<pre><span class="head">transport error</span>\nECONNRESET &lt;script&gt;alert(1)&lt;/script&gt;</pre>');
    expect(hostile).not.toContain(RAW_KEY);
    expect(hostile).not.toContain(RAW_JWT);
    expect(hostile).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it('keeps ids from the target out of attribute syntax', () => {
    const base = sampleReport();
    const checks = base.checks.map((c) => (c.id === 'RT-no-store' ? { ...c, id: ATTR_BREAK } : c));
    const out = renderHtml(sampleReport({ checks }));
    expect(out).not.toContain(ATTR_BREAK);
    expect(out).toMatch(/<article class="failure" id="check-[A-Za-z0-9_-]+">/);
    expect(externalReferences(out)).toEqual([]);
  });
});
