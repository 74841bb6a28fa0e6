import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { ANGLE, BACKSLASH, BRACKET, charClasses, COLON, DOT, EQUALS, EXCLAMATION, PAREN, PLUS, QUOTE } from '../chars.js';
import { NeedleSet } from './needles.js';

/*
 * Cross-site scripting: markup or script that a browser would run if the value were reflected
 * into a page. Values arrive percent- and entity-decoded and lower-cased; JavaScript escapes
 * (`\u003c`, `\x3c`) and UTF-7 brackets (`+ADw-`) are decoded here. Every check is a substring
 * search or a scan bounded by TAG_SCAN_LIMIT.
 */

/** HTML, SVG and MathML elements: `<name` followed by the end of a tag name opens markup. */
const TAGS = new Set([
  'a', 'abbr', 'address', 'animate', 'animatemotion', 'animatetransform', 'applet', 'area', 'article', 'aside', 'audio', 'b', 'base',
  'basefont', 'bdi', 'bdo', 'bgsound', 'big', 'blink', 'blockquote', 'body', 'br', 'button', 'canvas', 'caption', 'center', 'cite',
  'code', 'col', 'colgroup', 'command', 'content', 'data', 'datalist', 'dd', 'del', 'details', 'dfn', 'dialog', 'dir', 'discard', 'div',
  'dl', 'dt', 'element', 'em', 'embed', 'feimage', 'fieldset', 'figcaption', 'figure', 'font', 'footer', 'foreignobject', 'form',
  'frame', 'frameset', 'g', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'handler', 'head', 'header', 'hgroup', 'hr', 'html', 'i', 'iframe',
  'image', 'img', 'input', 'ins', 'isindex', 'kbd', 'keygen', 'label', 'layer', 'legend', 'li', 'link', 'listener', 'listing', 'main',
  'map', 'mark', 'marquee', 'math', 'menu', 'menuitem', 'meta', 'meter', 'mi', 'mo', 'ms', 'mtext', 'multicol', 'nav', 'nextid',
  'nobr', 'noembed', 'noframes', 'noscript', 'object', 'ol', 'optgroup', 'option', 'output', 'p', 'param', 'path', 'picture',
  'plaintext', 'portal', 'pre', 'progress', 'q', 'rb', 'rp', 'rt', 'rtc', 'ruby', 's', 'samp', 'script', 'section', 'select', 'set',
  'shadow', 'slot', 'small', 'source', 'spacer', 'span', 'strike', 'strong', 'style', 'sub', 'summary', 'sup', 'svg', 'table', 'tbody',
  'td', 'template', 'textarea', 'tfoot', 'th', 'thead', 'time', 'title', 'tr', 'track', 'tt', 'u', 'ul', 'use', 'var', 'video',
  'vmlframe', 'wbr', 'xml', 'xmp', 'xss', 'x', 'xmlns', 'import', 'implementation',
]);
/**
 * Elements that only format text. Reflected, they change how a page looks, not what it runs, so
 * they count only as a bare probe (`<img` ending the value) or with a handler, style or script URL.
 */
const INERT_TAGS = new Set([
  'a', 'abbr', 'address', 'article', 'aside', 'b', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code', 'col', 'colgroup',
  'data', 'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'header', 'hr', 'i', 'img', 'ins', 'kbd', 'label', 'li', 'main', 'mark', 'nav', 'nobr', 'ol', 'p', 'pre', 'q', 's', 'samp',
  'section', 'small', 'span', 'strike', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'tt',
  'u', 'ul', 'var', 'wbr',
]);
const DECLARATIONS = ['<!--', '<![cdata[', '<!doctype', '<!entity', '<!element', '<!attlist', '<?import'];
/** Attributes that load or submit to a URL, injected after closing an attribute's quote: `" formaction=`. */
const URL_ATTRIBUTES = ['formaction=', 'srcdoc=', 'xlink:href=', 'dynsrc=', 'lowsrc=', 'background='];
const SCRIPT_SCHEMES = ['javascript:', 'vbscript:', 'livescript:', 'mocha:', 'data:text/html', 'data:image/svg+xml', 'data:application/x-javascript', 'data:text/javascript'];
const CSS_VECTORS = ['url(javascript', 'url(vbscript', '-moz-binding', 'behavior:url', 'behaviour:url', 'expression(', '@import'];
/** Script calls and properties that reflected input has no reason to contain. A letter or digit must not precede them. */
const SCRIPT_SINKS = [
  'document.cookie', 'document.domain', 'document.write', 'document.location', 'window.location', 'location.href', 'alert(', 'prompt(',
  'confirm(', 'fromcharcode(', 'eval(', 'settimeout(', 'setinterval(', 'atob(', 'btoa(', '.innerhtml', 'function(', 'constructor(',
  '.sort.call`', '.map.call`', '.apply.call`', '.call`', 'reflect.apply', 'import(', 'alert`', 'eval`', 'top[', 'self[', 'window[',
  'document[', 'globalthis', 'new function', 'navigation.navigate', 'valueof=', 'tostring=',
];
/** Maximum stretch, in characters, after `<` that is scanned for attributes. */
const TAG_SCAN_LIMIT = 512;
/** Words starting with "on" that are not event handlers, so `online=1` is not one. */
const NOT_HANDLERS = new Set(['one', 'ones', 'only', 'once', 'online', 'onto', 'onset', 'onward', 'onwards', 'ongoing', 'onion', 'onions', 'onboarding', 'onsite', 'onlinebanking']);

function isLetter(code: number): boolean {
  return code >= 0x61 && code <= 0x7a;
}

function hexValue(char: string | undefined): number {
  if (char === undefined) return -1;
  const code = char.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** Decodes JavaScript string escapes (`\u0076`, `\u{61}`, `\x28`) and UTF-7 angle brackets (`+adw-`, `+ad4-`). */
export function decodeScriptEscapes(value: string): string {
  let text = value;
  if (text.indexOf('+ad') >= 0) text = text.replaceAll('+adw-', '<').replaceAll('+ad4-', '>');
  if (text.indexOf('\\') < 0) return text;
  let output = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      output += text[i];
      continue;
    }
    let j = i + 1;
    while (text[j] === '\\' && j - i < 8) j++;
    let code = -1;
    let end = j;
    if (text[j] === 'x' && hexValue(text[j + 1]) >= 0 && hexValue(text[j + 2]) >= 0) {
      code = hexValue(text[j + 1]) * 16 + hexValue(text[j + 2]);
      end = j + 3;
    } else if (text[j] === 'u' && text[j + 1] === '{') {
      const close = text.indexOf('}', j + 2);
      if (close > j + 2 && close - j <= 9) {
        code = parseInt(text.slice(j + 2, close), 16);
        end = close + 1;
      }
    } else if (text[j] === 'u' && [1, 2, 3, 4].every((offset) => hexValue(text[j + offset]) >= 0)) {
      code = parseInt(text.slice(j + 1, j + 5), 16);
      end = j + 5;
    }
    if (code >= 0 && code <= 0x10ffff && !Number.isNaN(code)) {
      output += String.fromCodePoint(code).toLowerCase();
      i = end - 1;
    } else {
      output += text[i];
    }
  }
  return output;
}

/** Reads a tag name after `<` (and `/`), letting single letters be spaced out (`<f o r m`); returns the name and where it ends. */
function readTagName(value: string, from: number): { name: string; end: number } {
  let i = from;
  let name = '';
  while (i < value.length && name.length < 24) {
    const code = value.charCodeAt(i);
    if (isLetter(code) || (name.length > 0 && ((code >= 0x30 && code <= 0x39) || value[i] === '-' || value[i] === ':'))) {
      name += value[i];
      i++;
    } else if (value[i] === ' ' && name.length > 0 && isLetter(value.charCodeAt(i + 1)) && (value[i + 2] === ' ' || i + 2 >= value.length) && value[i - 2] !== undefined && !isLetter(value.charCodeAt(i - 2))) {
      i++;
    } else {
      break;
    }
  }
  return { name, end: i };
}

/** Finds markup: a known element or a namespaced one, a declaration, or any tag carrying a handler or script URL. */
function findMarkup(value: string): string | undefined {
  for (const declaration of DECLARATIONS) if (value.indexOf(declaration) >= 0) return `${declaration} markup`;
  for (let start = value.indexOf('<'); start >= 0; start = value.indexOf('<', start + 1)) {
    let i = start + 1;
    const closing = value[i] === '/';
    if (closing) i++;
    while (value[i] === ' ' && i - start < 4) i++;
    const { name, end } = readTagName(value, i);
    if (!name) continue;
    const local = name.includes(':') ? name.slice(name.lastIndexOf(':') + 1) : name;
    const boundary = value[end];
    const endsName = boundary === undefined || boundary === ' ' || boundary === '/' || boundary === '>' || boundary === '\t' || boundary === '\n' || boundary === '\f';
    const known = TAGS.has(local) || (name.includes(':') && local.length > 0);
    if (endsName && known && (!INERT_TAGS.has(local) || (boundary === undefined && !closing))) return `<${local}> tag`;
    const attribute = findAttribute(value, end, Math.min(value.length, start + TAG_SCAN_LIMIT));
    if (attribute) return `<${name}> with ${attribute}`;
  }
  return undefined;
}

/** Looks for an event handler, style or script URL attribute between `from` and `to`, stopping at the tag's end. */
function findAttribute(value: string, from: number, to: number): string | undefined {
  for (let i = from; i < to; i++) {
    const char = value[i];
    if (char === '>') return undefined;
    const separator = char === ' ' || char === '/' || char === '"' || char === "'" || char === '\t' || char === '\n' || char === '\f';
    if (!separator) continue;
    const handler = handlerAt(value, i + 1, to);
    if (handler) return `${handler} handler`;
    if (value.startsWith('style', i + 1) && value[i + 6] === '=') return 'style attribute';
  }
  return undefined;
}

/** Reads `on<letters>=` at `start`; returns the handler name or undefined. */
function handlerAt(value: string, start: number, to: number): string | undefined {
  if (value[start] !== 'o' || value[start + 1] !== 'n') return undefined;
  let j = start + 2;
  while (j < to && isLetter(value.charCodeAt(j))) j++;
  if (j - start < 5) return undefined;
  const name = value.slice(start, j);
  if (NOT_HANDLERS.has(name)) return undefined;
  let k = j;
  while (k < to && (value[k] === ' ' || value[k] === '\t' || value[k] === '\n')) k++;
  return value[k] === '=' ? name : undefined;
}

/**
 * Finds an event handler outside a tag, as an injection into an attribute writes it:
 * `" onmouseover=alert(1)`, `' onerror=x`, or a parameter name such as `  onload= `.
 */
function findLooseHandler(value: string): string | undefined {
  for (let at = value.indexOf('on'); at >= 0; at = value.indexOf('on', at + 2)) {
    const before = at === 0 ? ' ' : value[at - 1];
    if (!(before === ' ' || before === '"' || before === "'" || before === '/' || before === ';' || before === '\t' || before === '\n' || before === '(')) continue;
    const handler = handlerAt(value, at, Math.min(value.length, at + 48));
    if (!handler) continue;
    const quoted = value.slice(0, at).search(/["'`]/) >= 0;
    const script = /[(`]|alert|eval|javascript|document|window/.test(value.slice(at, at + 200));
    if (quoted || script || at === 0 || value.slice(0, at).trim() === '') return `${handler} handler`;
  }
  return undefined;
}

/** Removes characters browsers ignore inside a URL scheme (`java\tscript:`, `java script:`). */
function compactScheme(value: string): string {
  let output = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x20) output += value[i];
  }
  return output;
}

function findScheme(value: string): string | undefined {
  if (value.indexOf(':') < 0) return undefined;
  const compact = compactScheme(value);
  for (const scheme of SCRIPT_SCHEMES) {
    const at = compact.indexOf(scheme);
    // The scheme must start the value or follow a character that ends an attribute or URL.
    if (at === 0 || (at > 0 && '"\'=(`>:'.includes(compact[at - 1]))) return `${scheme.replace(/:$/, '')} URL`;
  }
  for (const vector of CSS_VECTORS) if (compact.indexOf(vector) >= 0) return `css ${vector.replace(/\($/, '')}`;
  return undefined;
}

/** Finds an attribute that loads a URL right after a quote, where the value broke out of another attribute. */
function findUrlAttribute(value: string): string | undefined {
  if (value.indexOf('=') < 0 || (value.indexOf('"') < 0 && value.indexOf("'") < 0)) return undefined;
  for (const attribute of URL_ATTRIBUTES) {
    const at = value.indexOf(attribute);
    if (at < 0) continue;
    let i = at - 1;
    while (i >= 0 && value[i] === ' ') i--;
    if (value[i] === '"' || value[i] === "'") return `${attribute.slice(0, -1)} attribute`;
  }
  return undefined;
}

function findSink(input: string): string | undefined {
  const sink = findSinkIn(input);
  if (sink || (input.indexOf(' ') < 0 && input.indexOf('/*') < 0)) return sink;
  // `[ ] . sort . call \`…\``: spaces and comments between the parts of a call are still a call.
  const compact = input.replace(/\/\*[^*]{0,64}\*\//g, '').replaceAll(' ', '');
  const found = findSinkIn(compact);
  return found && (found.includes('call') || found.includes('apply')) ? found : undefined;
}

const SINK_SET = new NeedleSet(SCRIPT_SINKS);

function findSinkIn(value: string): string | undefined {
  const hits = SINK_SET.hits(value);
  if (hits.length === 0) return undefined;
  const scripted = /["'<>;`[\]{}]/.test(value);
  for (let i = 0; i < hits.length; i++) {
    const { needle, start } = hits[i];
    const sink = SCRIPT_SINKS[needle];
    const before = start === 0 ? '' : value[start - 1];
    if (before !== '' && /[a-z0-9_$]/.test(before) && !sink.startsWith('.')) continue;
    // A call needs script around it: a quote, bracket or semicolon, or the call as the whole value.
    if (scripted || start === 0 || sink.includes('`') || sink.endsWith('=')) return `script ${sink.replace(/[(`[=]$/, '')}`;
  }
  return undefined;
}

/**
 * Characters every check needs one of: markup, handlers and URL attributes (`<`, `=`), schemes
 * (`:`), declarations (`!`), script calls (`(`, `.`, a backquote, `[`), and the escapes that
 * decode to them (`\`, `+` of UTF-7).
 */
const XSS_CHARACTERS = ANGLE | EQUALS | COLON | EXCLAMATION | PAREN | DOT | QUOTE | BRACKET | BACKSLASH | PLUS;

/** Checks one decoded, lower-cased value; returns what was found, or undefined. `classes` are the value's character classes. */
export function detectXss(input: string, classes = charClasses(input)): string | undefined {
  if (input.length < 2 || (classes & XSS_CHARACTERS) === 0) return undefined;
  const value = decodeScriptEscapes(input);
  if (value.indexOf('<') >= 0) {
    const markup = findMarkup(value);
    if (markup) return markup;
  }
  if (value.indexOf('on') >= 0 && value.indexOf('=') >= 0) {
    const handler = findLooseHandler(value);
    if (handler) return handler;
  }
  const scheme = findScheme(value);
  if (scheme) return scheme;
  if (value.indexOf('!entity') >= 0 && value.indexOf('system') >= 0) return 'xml external entity';
  const attribute = findUrlAttribute(value);
  if (attribute) return attribute;
  if (value.indexOf('(') >= 0 || value.indexOf('.') >= 0 || value.indexOf('`') >= 0 || value.indexOf('[') >= 0 || value.indexOf('=') >= 0) return findSink(value);
  return undefined;
}

const slot = repeatSlot();

const check: ValueCheck = (value, _location, classes) => detectXss(value, classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

export const crossSiteScripting: Detector = {
  name: 'xss',
  description: 'Cross-site scripting markup, handlers, script URLs and script calls in parameters, headers and the path.',
  detect: (view: EventView) => inspect(view.inputs) ?? inspect(view.pathAsInput),
};
