/**
 * Escaping for the XML and HTML writers. Everything a report holds may come from an untrusted
 * target (bodies, headers, messages quoting them), so every string goes through here before it
 * reaches markup.
 */

/**
 * Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), plus
 * DEL and C1 controls, which XML allows but which only garble a viewer, and the bidi embedding,
 * override and isolate controls, which would make a viewer show a target's text reordered.
 */
const UNPRINTABLE = /[^\t\n\r\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]|[\u202A-\u202E\u2066-\u2069]/gu;

/**
 * Replaces unprintable characters with U+FFFD. Choice: replaced rather than dropped, so that a
 * reader sees that the target sent something there (the JSON report keeps the original).
 */
export function cleanText(value: string): string {
  return value.replace(UNPRINTABLE, '\uFFFD');
}

const MARKUP_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for XML or HTML, valid both in element content and in quoted attributes. */
export function escapeMarkup(value: string): string {
  return cleanText(value).replace(/[&<>"']/g, (c) => MARKUP_ENTITIES[c] ?? c);
}

/**
 * Escapes an XML attribute value. Line breaks and tabs become character references because an
 * XML parser normalises literal ones in attributes to spaces.
 */
export function escapeXmlAttr(value: string): string {
  return escapeMarkup(value).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}
