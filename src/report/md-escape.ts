/**
 * Markdown escaping for report.md. Text from the target (messages, bodies, reasons quoting
 * responses) must not become markup in a GitHub job summary: no stray tables cells, code spans,
 * links, HTML or headings.
 */
import { cleanText } from './escape.js';
import { oneLine as foldLine } from '../engine/text.js';

/**
 * Inline prose from an untrusted source, on one line. Backslash-escapes (CommonMark allows it for
 * any ASCII punctuation) what starts inline markup: backslash, backtick, `*`, `<` (HTML), `[`/`]`
 * (links), `|` (table cells), `~`, `&` when it would form an entity, and `_` unless it follows a
 * letter or digit: such a `_` can never open emphasis (CommonMark's flanking rules), and with
 * every opener escaped no closer has anything to pair with. Escaping only these keeps raw
 * report.md readable (`invalid_grant`, `RT#1`, `a & b`, fingerprints `ek_live_…` stay as they are).
 *
 * With `atLineStart` (list item content, paragraphs) it also escapes what opens a block there:
 * `#`, `>`, `-`, `+`, `=`, `1.`.
 */
export function mdText(value: string, options: { atLineStart?: boolean } = {}): string {
  const flat = oneLine(value);
  // Choice: a URL or an e-mail address in untrusted text becomes a code span. Viewers that
  // linkify (GitHub, markdown-it, most previews) would make a target's `http://…` a link in the
  // report; they never linkify inside code spans, and the text stays readable and copyable.
  let text = '';
  let last = 0;
  for (const match of flat.matchAll(LINKIFIABLE)) {
    const link = trimTrailing(match[0]);
    text += escapeProse(flat.slice(last, match.index));
    text += `\`${link}\``;
    last = match.index + link.length;
  }
  text += escapeProse(flat.slice(last));
  if (!options.atLineStart) return text;
  return text.replace(/^([#>+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2');
}

/**
 * What a linkifying viewer would turn into a link: `scheme://…` (any scheme), `www.…`, and
 * `local@domain.tld`. The match stops at characters a code span or a table cell cannot hold as
 * they are (backtick, pipe, backslash) and at the usual ends of a URL in prose.
 */
const LINKIFIABLE = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s`|\\<>"'[\]{}]*|\bwww\.[^\s`|\\<>"'[\]{}]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/gi;

/** Punctuation that ends the sentence rather than the URL ("see http://x/a.", "(at http://x)"). */
function trimTrailing(link: string): string {
  let end = link.length;
  for (;;) {
    const c = link[end - 1];
    const open = (link.slice(0, end).match(/\(/g) ?? []).length;
    const close = (link.slice(0, end).match(/\)/g) ?? []).length;
    if (c && ('.,;:!?'.includes(c) || (c === ')' && close > open)) && end > 1) end -= 1;
    else return link.slice(0, end);
  }
}

function escapeProse(text: string): string {
  return text
    .replace(/[\\`*<[\]|~]/g, (c) => `\\${c}`)
    .replace(/_/g, (c, i: number, all: string) => (isWordChar(all[i - 1]) ? c : `\\${c}`))
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '\\&');
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9]/.test(c);
}

/** An inline code span that holds any text: the fence is longer than any backtick run inside. */
export function mdCode(value: string, options: { inTable?: boolean } = {}): string {
  let text = oneLine(value);
  // GFM splits table cells before it parses code spans, so a pipe needs escaping even in code.
  if (options.inTable) text = text.replace(/\|/g, '\\|');
  if (text === '') return '';
  const fence = '`'.repeat(longestRun(text, '`') + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || fence.length > 1 ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced code block whose fence cannot be closed by its content. */
export function mdFence(content: string, info = ''): string {
  const text = cleanText(content).replace(/\r\n?/g, '\n');
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}${info}\n${text}${text.endsWith('\n') ? '' : '\n'}${fence}`;
}

/** Cleaned of control characters, on one line. */
function oneLine(value: string): string {
  return foldLine(cleanText(value));
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const c of text) {
    current = c === char ? current + 1 : 0;
    if (current > longest) longest = current;
  }
  return longest;
}
