/** Date-time parsing for API inputs (`expiresAt`). */

/** RFC 3339 date-time (the API documents `expiresAt` as `string(date-time)`). */
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an RFC 3339 date-time, refusing impossible dates (2025-02-30) that Date would roll over. */
export function parseDateTime(text: string): number | null {
  const match = DATE_TIME_RE.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const ms = Date.parse(text.toUpperCase());
  if (!Number.isFinite(ms)) return null;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  return ms;
}
