import type { Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';

/*
 * Cross-site scripting: markup or script that a browser would run if the value were reflected
 * into a page. Values are decoded (percent, HTML entities) and lower-cased before they get here.
 * Every check is a substring search or a bounded scan.
 */

const DANGEROUS_TAGS = ['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'meta', 'base', 'link', 'style', 'isindex', 'xss', 'template', 'portal'];
const SCRIPT_SCHEMES = ['javascript:', 'vbscript:', 'livescript:', 'data:text/html', 'data:image/svg+xml', 'data:application/x-javascript'];
const SCRIPT_SINKS = ['document.cookie', 'document.domain', 'document.write(', 'document.location', 'window.location', 'alert(', 'prompt(', 'confirm(', 'fromcharcode(', 'eval(', 'settimeout(', 'setinterval(', 'atob(', '.innerhtml', 'expression('];
/** Longest stretch from `<` scanned for an event-handler attribute. */
const TAG_SCAN_LIMIT = 512;

/** Removes characters browsers ignore inside a URL scheme (`java\tscript:`). */
function compactScheme(value: string): string {
  let output = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code > 0x20 || code === 0x20) output += char;
  }
  return output.split(' ').join('');
}

function isLetter(code: number): boolean {
  return code >= 0x61 && code <= 0x7a;
}

/** Finds `<tag` where tag is dangerous, or any tag carrying an `on…=` attribute. */
function findMarkup(value: string): string | undefined {
  for (let start = value.indexOf('<'); start >= 0; start = value.indexOf('<', start + 1)) {
    let i = start + 1;
    if (value[i] === '/') i++;
    const nameStart = i;
    while (i < value.length && i - nameStart < 16 && (isLetter(value.charCodeAt(i)) || value[i] === ':' || value[i] === '-')) i++;
    const name = value.slice(nameStart, i);
    if (!name) continue;
    if (DANGEROUS_TAGS.includes(name)) return `<${name}> tag`;
    const handler = findEventHandler(value, i, Math.min(value.length, start + TAG_SCAN_LIMIT));
    if (handler) return `<${name}> with ${handler}`;
  }
  return undefined;
}

/** Looks for ` onerror=`-style attributes between `from` and `to`, stopping at the tag's end. */
function findEventHandler(value: string, from: number, to: number): string | undefined {
  for (let i = from; i < to - 2; i++) {
    const char = value[i];
    if (char === '>') return undefined;
    const separator = char === ' ' || char === '/' || char === '"' || char === "'" || char === '\t' || char === '\n' || char === '\f';
    if (!separator || value[i + 1] !== 'o' || value[i + 2] !== 'n') continue;
    let j = i + 3;
    while (j < to && isLetter(value.charCodeAt(j))) j++;
    if (j - i < 5) continue;
    let k = j;
    while (k < to && (value[k] === ' ' || value[k] === '\t' || value[k] === '\n')) k++;
    if (value[k] === '=') return `${value.slice(i + 1, j)} handler`;
  }
  return undefined;
}

/** Checks one decoded, lower-cased value; returns what was found, or undefined. */
export function detectXss(value: string): string | undefined {
  if (value.length < 4) return undefined;
  const markup = value.indexOf('<') >= 0 ? findMarkup(value) : undefined;
  if (markup) return markup;
  if (value.indexOf(':') >= 0) {
    const compact = compactScheme(value);
    for (const scheme of SCRIPT_SCHEMES) {
      const at = compact.indexOf(scheme);
      // The scheme must start the value or follow a character that ends an attribute or URL.
      if (at === 0 || (at > 0 && '"\'=(`> '.includes(compact[at - 1]))) return `${scheme.replace(/:$/, '')} URL`;
    }
  }
  if (value.indexOf('(') >= 0 || value.indexOf('.') >= 0) {
    for (const sink of SCRIPT_SINKS) {
      if (value.indexOf(sink) >= 0 && /["'<>;`]|^[a-z.]*\(/.test(value)) return `script call ${sink.replace(/\($/, '')}`;
    }
  }
  return undefined;
}

function inspect(values: Inspected[]): string | undefined {
  for (const { location, value } of values) {
    const found = detectXss(value);
    if (found) return `${location}: ${found}`;
  }
  return undefined;
}

export const crossSiteScripting: Detector = {
  name: 'xss',
  description: 'Cross-site scripting markup, script URLs and script calls in query parameters and the path.',
  detect: (view: EventView) => inspect(view.query) ?? inspect([{ location: 'url.path', value: view.path }]),
};
