/**
 * Console output: progress on stderr, one line per check, and a closing summary. Everything goes
 * through the redactor (H-01): a secret never reaches the terminal, even inside an error message.
 * And everything is made inert for a terminal (`terminalSafe`): text from a target or an adapter
 * (bodies, messages, adapter names, stderr lines) may hold ESC, BEL or bidi controls that would
 * retitle the window, recolour or rewrite lines; only the harness's own colours are real escapes.
 */
import type { Redactor } from '../engine/redact.js';
import { findingsOf } from '../report/findings.js';
import type { CheckResult, Report } from '../report/schema.js';

export interface ConsoleOptions {
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  redactor: Redactor;
  stream?: NodeJS.WritableStream;
}

const COLORS = { green: 32, red: 31, yellow: 33, grey: 90, bold: 1 } as const;

export class ConsoleOutput {
  private readonly stream: NodeJS.WritableStream;
  constructor(private readonly options: ConsoleOptions) {
    this.stream = options.stream ?? process.stderr;
  }

  static colorWanted(flag: boolean | undefined, stream: NodeJS.WritableStream = process.stderr): boolean {
    if (flag === false || process.env.NO_COLOR !== undefined) return false;
    return Boolean((stream as NodeJS.WriteStream).isTTY);
  }

  private paint(color: keyof typeof COLORS, text: string): Painted {
    return { color, text };
  }

  /**
   * Writes one line made of plain text and painted parts. Every part is redacted and made
   * terminal-safe first; the colour escapes are added after, so they are the only ones written.
   */
  private emit(...parts: Array<string | Painted>): void {
    const safe = (text: string) => terminalSafe(this.options.redactor.text(text));
    const text = parts
      .map((part) => {
        if (typeof part === 'string') return safe(part);
        return this.options.color ? `\u001b[${COLORS[part.color]}m${safe(part.text)}\u001b[0m` : safe(part.text);
      })
      .join('');
    this.stream.write(`${text}\n`);
  }

  /** Any line; redacted and terminal-safe. */
  line(text: string): void {
    this.emit(text);
  }

  info(text: string): void {
    if (!this.options.quiet) this.line(text);
  }

  debug(text: string): void {
    if (this.options.verbose) this.emit(this.paint('grey', singleLine(text)));
  }

  checkStarted(check: { id: string }): void {
    if (this.options.verbose) this.emit(this.paint('grey', `  … ${check.id}`));
  }

  checkDone(result: CheckResult): void {
    if (this.options.quiet && result.status !== 'failed') return;
    const label = { passed: this.paint('green', 'PASS'), failed: this.paint('red', 'FAIL'), skipped: this.paint('grey', 'SKIP'), inconclusive: this.paint('yellow', 'INCO') }[result.status];
    const runs = result.status === 'skipped' ? '' : `${result.runs} run${result.runs === 1 ? '' : 's'}, ${(result.durationMs / 1000).toFixed(1)} s`;
    // One line per check, whatever the target put in the message (bodies may hold line breaks).
    const note = result.message && result.status !== 'passed' ? ` — ${singleLine(result.message)}` : '';
    this.emit('  ', label, ` ${result.id.padEnd(30)} ${runs}${note}`);
    if (result.status === 'failed') {
      for (const [k, finding] of findingsOf(result).entries()) {
        if (k > 0) this.line(`       also: ${singleLine(finding.message)}`);
        if (!this.options.verbose) continue;
        // What the target said stays on its line: a body's line breaks cannot forge lines of ours.
        if (finding.expected) this.line(`       expected: ${singleLine(finding.expected)}`);
        if (finding.actual) this.line(`       actual:   ${singleLine(finding.actual)}`);
        for (const [i, step] of (finding.steps ?? []).entries()) this.line(`       ${i + 1}. ${singleLine(step)}`);
        if (finding.replay) this.line(`       replay: ${singleLine(finding.replay)}`);
      }
    }
  }

  summary(report: Report, written: readonly string[]): void {
    const s = report.summary;
    const verdict =
      report.exitCode === 0
        ? this.paint('green', 'conformant')
        : report.exitCode === 4
          ? this.paint('yellow', 'inconclusive')
          : report.exitCode === 3
            ? this.paint('yellow', 'target unusable, no check ran')
            : this.paint('red', 'NOT conformant');
    this.emit(
      this.paint('bold', 'ekso-conformance'),
      ` ${report.mode}: `,
      verdict,
      ` — requirements: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.inconclusive} inconclusive, ${s.notCovered} not covered (policy ${report.policy}, seed ${report.seed})`,
    );
    if (report.mode === 'backend') {
      const c = report.cleanup;
      this.line(`  cleanup: ${c.minted} keys minted, ${c.revoked} revoked, ${c.leaked} leaked`);
    }
    for (const failed of report.checks.filter((c) => c.status === 'failed')) {
      for (const finding of findingsOf(failed)) {
        this.emit('  ', this.paint('red', 'failed'), ` ${failed.id}: ${singleLine(finding.message)}`);
        if (finding.replay) this.line(`    replay: ${singleLine(finding.replay)}`);
      }
    }
    for (const limited of report.requirements.filter((r) => r.status === 'passed' && r.limits?.length)) {
      this.emit('  ', this.paint('yellow', 'passed with limits'), ` ${limited.id}: ${singleLine(limited.limits!.join('; '))}`);
    }
    for (const entry of report.baseline?.stale ?? []) {
      this.emit('  ', this.paint('red', 'stale baseline entry'), ` ${entry}: it passes now — remove it from ${report.baseline?.file ?? 'the baseline'}`);
    }
    const baselined = report.requirements.filter((r) => r.status === 'failed' && r.baselined).map((r) => r.id);
    if (baselined.length) this.line(`  expected failures (baseline): ${baselined.join(', ')}`);
    if (written.length) this.line(`  reports: ${written.join(', ')}`);
  }
}

interface Painted {
  color: keyof typeof COLORS;
  text: string;
}

/**
 * What a terminal would act on rather than show — C0 controls but the line feed and tab (ESC, BEL,
 * carriage return, backspace…), DEL, C1 controls (U+009B is a CSI on some terminals), the bidi
 * overrides and isolates, and the line/paragraph separators — shown as `\uXXXX` escapes instead.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Line breaks and other control characters shown as escapes, so one message stays one line. */
function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
