/**
 * The cleanup ledger (H-02): every API key the harness mints is written here the moment the
 * target answers, and revoked before the harness exits — after success, failure, a crashed check,
 * a timeout or Ctrl-C. The report states minted / revoked / leaked.
 */
export interface LedgerEntry {
  id: string;
  label: string;
  revoked: boolean;
  /** Revoke this one last (it is the credential used to revoke the others). */
  last?: boolean;
}

export type Revoker = (id: string) => Promise<boolean>;

export class CleanupLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  recordMint(id: string, label: string, options: { last?: boolean } = {}): void {
    if (!this.entries.has(id)) this.entries.set(id, { id, label, revoked: false, ...(options.last ? { last: true } : {}) });
  }

  recordRevoked(id: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.revoked = true;
  }

  isRevoked(id: string): boolean {
    return this.entries.get(id)?.revoked ?? false;
  }

  outstanding(): LedgerEntry[] {
    return [...this.entries.values()].filter((e) => !e.revoked);
  }

  /** Revokes everything outstanding (the `last` entries after the others); never throws. */
  async revokeAll(revoke: Revoker): Promise<void> {
    const pending = this.outstanding().sort((a, b) => Number(a.last ?? false) - Number(b.last ?? false));
    for (const entry of pending) {
      try {
        if (await revoke(entry.id)) entry.revoked = true;
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
