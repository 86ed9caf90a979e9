/**
 * HTTP exchanges as plain text (the Markdown and HTML writers wrap it in their own markup). The
 * transcript is already redacted by the engine; this only lays it out for reading.
 */
import type { z } from 'zod';
import type { ExchangeSchema } from './schema.js';

export type Exchange = z.infer<typeof ExchangeSchema>;

/** Default cap per body: enough for any auth response, small enough for a job summary. */
export const BODY_LIMIT = 4000;

/** JSON bodies are re-indented for reading; anything else is shown as sent. */
export function prettyBody(body: string, limit = BODY_LIMIT): string {
  let text = body;
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      text = JSON.stringify(JSON.parse(trimmed), null, 2);
    } catch {
      // Not JSON after all (a garbage response is evidence too): show it verbatim.
    }
  }
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}\n… (${text.length - limit} more characters; the full body is in ekso-conformance.json)`;
}

export function headerLines(headers: Record<string, string>): string[] {
  return Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
}

export function requestLine(exchange: Exchange): string {
  return `${exchange.request.method} ${exchange.request.url}`;
}

export function requestText(exchange: Exchange, limit = BODY_LIMIT): string {
  const lines = [requestLine(exchange), ...headerLines(exchange.request.headers)];
  if (exchange.request.body) lines.push('', prettyBody(exchange.request.body, limit));
  return lines.join('\n');
}

/** The response, or the transport error that took its place. */
export function responseText(exchange: Exchange, limit = BODY_LIMIT): string {
  const lines: string[] = [];
  if (exchange.response) {
    lines.push(`HTTP ${exchange.response.status}`, ...headerLines(exchange.response.headers));
    if (exchange.response.body) lines.push('', prettyBody(exchange.response.body, limit));
  }
  if (exchange.error) lines.push(`transport error: ${exchange.error}`);
  if (!exchange.response && !exchange.error) lines.push('(no response recorded)');
  return lines.join('\n');
}

/** One line per exchange ("POST /token → 400 (12 ms)"), for compact listings. */
export function exchangeSummary(exchange: Exchange): string {
  const outcome = exchange.response ? `${exchange.response.status}` : `error: ${exchange.error ?? 'no response'}`;
  return `${requestLine(exchange)} → ${outcome} (${Math.round(exchange.durationMs)} ms)`;
}
