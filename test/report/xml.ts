/**
 * A small, strict XML 1.0 reader for the tests: it rejects what a real parser rejects in the
 * documents we write (unbalanced or misnested tags, unquoted or duplicate attributes, raw `<` or
 * a bare `&` in text or attributes, `]]>` in text, characters XML forbids, more than one root)
 * and returns the element tree so tests can count and read elements.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Decoded character data directly inside this element. */
  text: string;
}

const ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;

export function parseXml(doc: string): XmlElement {
  const illegal = ILLEGAL.exec(doc);
  if (illegal) throw new Error(`illegal character U+${illegal[0].codePointAt(0)?.toString(16)} at ${illegal.index}`);
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at offset ${i}: ${JSON.stringify(doc.slice(i, i + 40))}`);
  };
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < doc.length) {
    if (doc.startsWith('<!--', i)) {
      const end = doc.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (doc.startsWith('</', i)) {
      i += 2;
      const name = NAME.exec(doc.slice(i))?.[0] ?? fail('bad closing tag name');
      i += name.length;
      while (/\s/.test(doc[i] ?? '')) i++;
      if (doc[i] !== '>') fail('bad closing tag');
      i++;
      const open = stack.pop() ?? fail(`closing </${name}> without an open element`);
      if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
    } else if (doc[i] === '<') {
      i++;
      const name = NAME.exec(doc.slice(i))?.[0] ?? fail('bad tag name');
      i += name.length;
      const element: XmlElement = { name, attrs: {}, children: [], text: '' };
      for (;;) {
        const spaced = /\s/.test(doc[i] ?? '');
        while (/\s/.test(doc[i] ?? '')) i++;
        if (doc.startsWith('/>', i) || doc[i] === '>') break;
        if (!spaced) fail('attributes must be separated by whitespace');
        const attr = NAME.exec(doc.slice(i))?.[0] ?? fail('bad attribute name');
        i += attr.length;
        if (doc[i] !== '=') fail(`attribute ${attr} without =`);
        i++;
        const quote = doc[i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} not quoted`);
        const end = doc.indexOf(quote as string, i + 1);
        if (end < 0) fail('unterminated attribute value');
        const raw = doc.slice(i + 1, end);
        if (raw.includes('<')) fail(`raw < in attribute ${attr}`);
        if (attr in element.attrs) fail(`duplicate attribute ${attr}`);
        element.attrs[attr] = decode(raw, fail);
        i = end + 1;
      }
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else if (root) fail('a second root element');
      else root = element;
      if (doc.startsWith('/>', i)) i += 2;
      else {
        i++;
        stack.push(element);
      }
    } else {
      const end = doc.indexOf('<', i);
      const raw = doc.slice(i, end < 0 ? doc.length : end);
      if (raw.includes(']]>')) fail(']]> in text');
      const parent = stack.at(-1);
      if (!parent) {
        if (raw.trim()) fail('text outside the root element');
      } else {
        parent.text += decode(raw, fail);
      }
      i += raw.length;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

function decode(raw: string, fail: (why: string) => never): string {
  return raw.replace(/&([^;&\s]*);?/g, (match, ref: string) => {
    if (!match.endsWith(';')) fail(`bare & in ${JSON.stringify(raw.slice(0, 60))}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (ref in named) return named[ref] as string;
    const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!num) return fail(`unknown entity &${ref};`);
    const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2] as string, 10);
    const char = String.fromCodePoint(code);
    if (ILLEGAL.test(char)) fail(`character reference to an illegal character &${ref};`);
    return char;
  });
}

/** Every descendant element (depth first) with the given name. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of element.children) {
    if (child.name === name) out.push(child);
    out.push(...findAll(child, name));
  }
  return out;
}
