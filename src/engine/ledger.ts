/**
 * The cleanup ledger (H-02): every API key the harness mints is written here the moment the
 * target answers, and revoked before the harness exits — after success, failure, a crashed check,
 * a timeout or Ctrl-C. The report states minted / revoked / leaked.
 *
 * A mint whose answer never came (Ctrl-C or --max-time while it was in flight, a reset, a
 * timeout) may still have created a key, and so may a mint the target refused or answered in a
 * shape the harness did not understand. So every key the harness mints carries the run's tag in
 * its name (`keyName`), the ledger counts the mints that had no answer, and the cleanup lists the
 * target's keys at the end: a tagged key the ledger does not know is recorded and revoked too.
 */
import { randomBytes } from 'node:crypto';
export interface LedgerEntry {
  id: string;
  label: string;
  revoked: boolean;
  /** Revoke this one last (it is the credential used to revoke the others). */
  last?: boolean;
}

export type Revoker = (id: string) => Promise<boolean>;

/**
 * A revoked entry keeps its id only: the label (the key's name, unique per key) is what the report
 * says of an outstanding key, and a deep run revokes thousands (issue 13: memory flat).
 */
function markRevoked(entry: LedgerEntry): void {
  entry.revoked = true;
  entry.label = '';
}

export class CleanupLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  /** Ids in the order they were recorded (`recordedSince`). */
  private readonly order: string[] = [];
  /** Mints sent so far, and those that got no answer (their outcome on the target is unknown). */
  private attempts = 0;
  private unanswered = 0;

  /**
   * The tag every key name of this run ends with: `[ekso-conformance 1a2b3c4d]`, random per run
   * (a run never mistakes another run's keys, or a person's, for its own).
   */
  readonly tag = `[ekso-conformance ${randomBytes(4).toString('hex')}]`;

  /**
   * The name to mint a key with. Choice: an empty or blank name is left as it is — it is what a
   * check sends to be refused (AK-12), and the tag would make it valid.
   */
  keyName(name: string): string {
    return name.trim() === '' ? name : `${name} ${this.tag}`;
  }

  /** Whether a listed key's name says this run minted it. */
  isNamedByThisRun(name: unknown): boolean {
    return typeof name === 'string' && name.includes(this.tag);
  }

  /** A mint is being sent; call the result once its answer (any answer) arrived. */
  mintSent(): () => void {
    this.attempts += 1;
    this.unanswered += 1;
    let answered = false;
    return () => {
      if (answered) return;
      answered = true;
      this.unanswered -= 1;
    };
  }

  get mintsSent(): number {
    return this.attempts;
  }

  /** Mints that never got an answer: each may have created a key the ledger cannot know by id. */
  get mintsUnanswered(): number {
    return this.unanswered;
  }

  recordMint(id: string, label: string, options: { last?: boolean } = {}): void {
    if (this.entries.has(id)) return;
    this.entries.set(id, { id, label, revoked: false, ...(options.last ? { last: true } : {}) });
    this.order.push(id);
  }

  /** How many distinct keys have been recorded so far (a position for `recordedSince`). */
  get recordedCount(): number {
    return this.order.length;
  }

  /** The ids recorded after position `from` (a `recordedCount` read earlier), oldest first. */
  recordedSince(from: number): string[] {
    return this.order.slice(from);
  }

  recordRevoked(id: string): void {
    const entry = this.entries.get(id);
    if (entry) markRevoked(entry);
  }

  /** The target still lists a key as active although its revocation was acknowledged. */
  recordStillActive(id: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.revoked = false;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  isRevoked(id: string): boolean {
    return this.entries.get(id)?.revoked ?? false;
  }

  outstanding(): LedgerEntry[] {
    return [...this.entries.values()].filter((e) => !e.revoked);
  }

  /**
   * Revokes everything outstanding (the `last` entries after the others, or not at all with
   * `holdLast`: the credential that revokes is still needed, e.g. to list the keys); never throws.
   */
  async revokeAll(revoke: Revoker, options: { holdLast?: boolean } = {}): Promise<void> {
    const pending = this.outstanding()
      .filter((e) => !(options.holdLast && e.last))
      .sort((a, b) => Number(a.last ?? false) - Number(b.last ?? false));
    for (const entry of pending) {
      try {
        if (await revoke(entry.id)) markRevoked(entry);
      } catch {
        // Leaked: counted below; the run goes on to write its reports.
      }
    }
  }

  counts(): { minted: number; revoked: number; leaked: number } {
    const all = [...this.entries.values()];
    const revoked = all.filter((e) => e.revoked).length;
    return { minted: all.length, revoked, leaked: all.length - revoked };
  }
}
