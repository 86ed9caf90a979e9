/**
 * The stylesheet of report.html, inline so that the file is self-contained (no URL, font or
 * image: the report is opened from CI artefacts, often offline, and must not call out).
 *
 * The status filters are pure CSS (hidden checkboxes before the matrix, `:checked ~` selectors),
 * so they work with scripts disabled and the page needs no script at all.
 */
import { REQUIREMENT_STATUSES } from './schema.js';

const FILTER_RULES = REQUIREMENT_STATUSES.map(
  (s) =>
    `#show-${s}:not(:checked) ~ table .r-${s} { display: none; }\n` +
    `#show-${s}:not(:checked) ~ .filters label[for="show-${s}"] { opacity: .45; text-decoration: line-through; }\n` +
    `#show-${s}:focus-visible ~ .filters label[for="show-${s}"] { outline: 2px solid var(--accent); }`,
).join('\n');

export const REPORT_CSS = `
:root {
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --border: #d1d9e0; --accent: #0969da;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --skip: #59636e; --skip-bg: #eaeef2; --inc: #9a6700; --inc-bg: #fff8c5; --nc: #8250df; --nc-bg: #fbefff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --border: #3d444d; --accent: #4493f8;
    --pass: #3fb950; --pass-bg: #12261e; --fail: #f85149; --fail-bg: #2d1214;
    --skip: #9198a1; --skip-bg: #212830; --inc: #d29922; --inc-bg: #272115; --nc: #ab7df8; --nc-bg: #221a33;
  }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 1.5rem clamp(1rem, 3vw, 3rem); color: var(--fg); background: var(--bg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--border); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
h4 { font-size: .95rem; margin: 1rem 0 .35rem; }
code, pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { margin: 0; padding: .6rem .75rem; background: var(--panel); border: 1px solid var(--border); border-radius: 6px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid var(--border); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--panel); position: sticky; top: 0; }
tr.group th { background: var(--panel); font-size: 1rem; padding-top: .6rem; }
td.num { text-align: right; white-space: nowrap; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .75rem 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.result { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-weight: 700; }
.counts span { margin-right: 1rem; }
.st { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-weight: 600; font-size: 12px; white-space: nowrap; }
.st-passed { color: var(--pass); background: var(--pass-bg); }
.st-failed { color: var(--fail); background: var(--fail-bg); }
.st-skipped { color: var(--skip); background: var(--skip-bg); }
.st-inconclusive { color: var(--inc); background: var(--inc-bg); }
.st-not-covered { color: var(--nc); background: var(--nc-bg); }
tr.r-failed td:first-child { border-left: 4px solid var(--fail); }
tr.r-inconclusive td:first-child { border-left: 4px solid var(--inc); }
.filters { margin: .5rem 0; }
.filters label { cursor: pointer; margin-right: .35rem; user-select: none; }
.f { position: absolute; opacity: 0; pointer-events: none; }
${FILTER_RULES}
.failure { border: 1px solid var(--border); border-left: 4px solid var(--fail); border-radius: 6px; padding: .25rem 1rem 1rem; margin: 1rem 0; }
blockquote.req { margin: .5rem 0; padding: .4rem .75rem; border-left: 3px solid var(--muted); background: var(--panel); }
.ea { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
@media (max-width: 800px) { .ea, .exchange { grid-template-columns: 1fr; } }
.exchange { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; margin: .5rem 0; }
.exchange .label { color: var(--muted); font-size: 12px; margin-bottom: .15rem; }
.exchange .head { font-weight: 600; }
.exchange pre + pre { margin-top: .25rem; }
.http-2xx .head { color: var(--pass); }
.http-4xx .head, .http-5xx .head, .transport .head { color: var(--fail); }
details > summary { cursor: pointer; }
details > summary > h4 { display: inline-block; }
.muted { color: var(--muted); }
.warn { color: var(--fail); font-weight: 600; }
ul.plain { padding-left: 1.2rem; }
`;
