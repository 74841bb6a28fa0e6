import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { ANGLE, AT, BACKSLASH, BRACE, charClasses, DOT, HASH, PLUS } from '../chars.js';
import { decodeScriptEscapes } from './xss.js';

/*
 * Template and expression injection: text a server-side template engine or expression language
 * would evaluate. Delimiters alone (`{{name}}`, `${price}`) are ordinary placeholders, so the
 * content must be an expression: arithmetic (`{{7*7}}`), a reach into the runtime
 * (`${T(java.lang.Runtime)}`, `{{''.__class__}}`), or an OGNL context access (`%{#context}`).
 */

/** Expression delimiters of common engines: Jinja2, Twig, Handlebars, Spring EL, JSP EL, OGNL, Thymeleaf, Ruby, ERB. */
const OPENERS = ['{{', '${', '#{', '%{', '*{', '@{', '~{', '<%=', '<%'];
/** Markers of an expression that reaches into the runtime instead of reading data. */
const RUNTIME_MARKERS = [
  '__class__', '__mro__', '__subclasses__', '__globals__', '__builtins__', '__import__', '__init__', 'config.', 'config|', 'self.',
  'request.', 'lipsum', 'cycler', 'joiner', 'namespace', 'constructor', '.getclass(', 'getclass()', 't(java', 't (java', 'java.lang',
  'runtime', 'processbuilder', '.exec(', 'class.forname', 'classloader', '@java', '@ognl', '#_memberaccess', '#context', '#this',
  '#application', '#request', '#session', '#attr', '#parameters', '_self.env', 'registerundefinedfiltercallback', 'getfilter(',
  'freemarker.template', '?new(', 'system(', 'popen(', 'os.', 'subprocess', 'eval(', 'facescontext', 'pagecontext', 'applicationscope',
  'sessionscope', 'requestscope', 'initparam', 'header[', 'param.', 'product.getclass', 'core::', 'mainmodule', 'child_process',
];
/** Template tags that run code: Jinja2/Twig statements, FreeMarker directives, Velocity, Smarty. */
const TAG_MARKERS = ['{% import', '{%import', '{% for', '{% set', '{% if', '{% include', '{%set', '<#assign', '<#import', '#set($', '$class.inspect', '{php}', '{system(', '{$smarty.', '{{#with', '__${'];
/** OGNL expressions outside delimiters, as Struts exploits send them. */
const OGNL_MARKERS = ['#_memberaccess', '@ognl.ognlcontext@', '(#_=', '(#a=@', '#context[', '@java.lang.runtime@', '(#cmd=', '(#ros=', '(#dm=', '#container='];
/** Spring data binding into the class loader (Spring4Shell) and its kin. */
const BINDING_MARKERS = ['class.module.classloader', 'class.classloader', '.classloader.resources', 'class.protectiondomain'];

/** Maximum length, in characters, of an expression body that is examined. */
const MAX_EXPRESSION = 256;

function closerFor(opener: string): string {
  if (opener.startsWith('<%')) return '%>';
  if (opener === '{{') return '}}';
  return '}';
}

/** Arithmetic between numbers or quoted values: `7*7`, `7*'7'`, `1337+1`. */
function isArithmetic(body: string): boolean {
  return /[0-9'"]\s{0,3}[*+\-/%]\s{0,3}[0-9'"(]/.test(body) && /\d/.test(body) && !/^\s*[0-9a-f-]{8,}\s*$/.test(body);
}

/** Finds an evaluated expression between delimiters; returns its description. */
function findExpression(value: string): string | undefined {
  for (const opener of OPENERS) {
    for (let at = value.indexOf(opener); at >= 0; at = value.indexOf(opener, at + opener.length)) {
      const start = at + opener.length;
      const close = value.indexOf(closerFor(opener), start);
      const body = value.slice(start, close < 0 ? Math.min(value.length, start + MAX_EXPRESSION) : Math.min(close, start + MAX_EXPRESSION));
      if (body.trim().length === 0) continue;
      const delimiters = `${opener}…${closerFor(opener)}`;
      if (isArithmetic(body)) return `arithmetic in ${delimiters}`;
      const marker = RUNTIME_MARKERS.find((candidate) => body.indexOf(candidate) >= 0);
      if (marker) return `${marker.replace(/[.(|[]+$/, '')} in ${delimiters}`;
      if (opener === '%{' && body.trimStart().startsWith('(#')) return 'ognl expression';
      if ((opener === '<%=' || opener === '<%') && /[(`]/.test(body)) return `code in ${delimiters}`;
    }
  }
  return undefined;
}

/**
 * Characters every check needs one of: expression and tag delimiters (`{`, `<%`, `<#`), OGNL's
 * `#` and `@`, the dots of class-loader binding, and the escapes that decode to them.
 */
const TEMPLATE_CHARACTERS = BRACE | ANGLE | HASH | AT | DOT | BACKSLASH | PLUS;

/** Checks one decoded, lower-cased value; returns what was found, or undefined. `classes` are the value's character classes. */
export function detectTemplateInjection(input: string, classes = charClasses(input)): string | undefined {
  if (input.length < 4 || (classes & TEMPLATE_CHARACTERS) === 0) return undefined;
  const value = decodeScriptEscapes(input);
  if (value.indexOf('{') >= 0 || value.indexOf('<%') >= 0) {
    const expression = findExpression(value);
    if (expression) return expression;
    const tag = TAG_MARKERS.find((marker) => value.indexOf(marker) >= 0);
    if (tag) return `template tag ${tag}`;
  }
  if (value.indexOf('#') >= 0 || value.indexOf('@') >= 0) {
    const ognl = OGNL_MARKERS.find((marker) => value.indexOf(marker) >= 0);
    if (ognl) return `ognl ${ognl}`;
  }
  const binding = BINDING_MARKERS.find((marker) => value.indexOf(marker) >= 0);
  if (binding) return `class loader binding ${binding}`;
  return undefined;
}

const slot = repeatSlot();

const check: ValueCheck = (value, _location, classes) => detectTemplateInjection(value, classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

export const templateInjection: Detector = {
  name: 'template_injection',
  description: 'Server-side template and expression language injection (Jinja2, Twig, Spring EL, OGNL, FreeMarker, ERB) in parameters, headers and the path.',
  detect: (view: EventView) => inspect(view.inputs) ?? inspect(view.pathAsInput),
};
