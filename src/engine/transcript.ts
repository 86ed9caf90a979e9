/** One HTTP exchange as kept in reports: always redacted before it is stored. */
export interface RecordedExchange {
  at: string;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { status: number; headers: Record<string, string>; body?: string };
  /** Transport failure (timeout, reset, refused) instead of a response. */
  error?: string;
  durationMs: number;
}

/** Receives exchanges as they happen; the check runner points it at the current execution. */
export interface ExchangeSink {
  record(exchange: RecordedExchange): void;
}

export const DISCARD: ExchangeSink = { record() {} };
