/** One HTTP exchange as kept in reports: always redacted before it is stored. */
export interface RecordedExchange {
  at: string;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { status: number; headers: Record<string, string>; body?: string };
  /** Transport failure (timeout, reset, refused) instead of a response. */
  error?: string;
  durationMs: number;
}

/**
 * An exchange whose redaction is deferred: most executions pass and their transcripts are thrown
 * away, so the (costly) redaction runs only for the one transcript a report shows.
 */
export type LazyExchange = () => RecordedExchange;

/** Receives exchanges as they happen; the check runner points it at the current execution. */
export interface ExchangeSink {
  record(exchange: RecordedExchange | LazyExchange): void;
}

export function materialize(exchange: RecordedExchange | LazyExchange): RecordedExchange {
  return typeof exchange === 'function' ? exchange() : exchange;
}

export const DISCARD: ExchangeSink = { record() {} };
