import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { sampleReport } from '../../src/report/fixtures.js';
import { redactReport } from '../../src/report/safety-net.js';
import { RAW_JWT, RAW_KEY, hostileReport } from './helpers.js';

const WRITERS = { json: renderJson, junit: renderJunit, md: renderMarkdown, html: renderHtml };

describe('H-01 safety net of every writer', () => {
  it.each(Object.entries(WRITERS))('%s shows secrets that slipped through only as fingerprints', (_name, render) => {
    const out = render(hostileReport());
    expect(out).not.toContain(RAW_KEY);
    expect(out).not.toContain(RAW_JWT);
    expect(out).toMatch(/ek_live_…\(len=\d+, sha256:[0-9a-f]{8}\)/);
  });

  it('changes nothing in a report the engine already redacted', () => {
    expect(redactReport(sampleReport())).toEqual(sampleReport());
  });
});
