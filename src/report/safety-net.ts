/**
 * The writers' last net for H-01. The engine redacts everything it records, but a report is the
 * one artefact that leaves the machine (CI artefacts, job summaries), so every writer passes it
 * once more through a fresh `Redactor`: anything still shaped like a secret (an `ek_live_` key, a
 * JWT, an opaque Ekso handle, a value under a secret-named field) becomes a fingerprint.
 * Fingerprints are left alone, so redacting a redacted report changes nothing.
 */
import { Redactor } from '../engine/redact.js';
import type { Report } from './schema.js';

export function redactReport(report: Report): Report {
  return new Redactor().value(report);
}
