import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { BACKSLASH, charClasses, DOLLAR } from '../chars.js';
import { decodeScriptEscapes } from './xss.js';

/*
 * JNDI lookups (Log4Shell, CVE-2021-44228) and other string-interpolation lookups that run code
 * or reach the network (Apache Commons Text, CVE-2022-42889). Obfuscated lookups such as
 * `${${lower:j}ndi:...}` and `${${env:x:-j}ndi:...}` are resolved the way Log4j resolves them,
 * innermost first, before matching.
 */

/** Lookups of Log4j and Commons Text that fetch, resolve or run something. */
const DANGEROUS_LOOKUPS = ['jndi', 'script', 'url', 'dns', 'file'];
/** Naming and directory protocols a JNDI lookup can reach. */
const JNDI_PROTOCOLS = ['ldap', 'ldaps', 'rmi', 'dns', 'iiop', 'corba', 'nds', 'nis', 'http', 'https'];
/** Resolution rounds at most; each removes one innermost `${…}`. */
const MAX_ROUNDS = 64;

/** Resolves one lookup body the way Log4j does, for the lookups obfuscation uses. */
function resolveBody(body: string): string {
  const colon = body.indexOf(':');
  const prefix = colon >= 0 ? body.slice(0, colon) : '';
  if (prefix === 'lower' || prefix === 'upper') return body.slice(colon + 1);
  // `${anything:-x}` and `${::-x}` give the default `x` when the lookup finds nothing.
  const fallback = body.indexOf(':-');
  if (fallback >= 0) return body.slice(fallback + 2);
  if (prefix === 'date') return body.slice(colon + 1).replace(/'/g, '');
  if (DANGEROUS_LOOKUPS.includes(prefix)) return `\u0000${body}\u0001`;
  return '';
}

/** Replaces lookups innermost first; dangerous ones stay, marked by NUL and U+0001 in place of `${` and `}`. */
export function resolveLookups(text: string): string {
  let current = text;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const open = current.lastIndexOf('${');
    if (open < 0) break;
    const close = current.indexOf('}', open + 2);
    if (close < 0) break;
    current = current.slice(0, open) + resolveBody(current.slice(open + 2, close)) + current.slice(close + 1);
  }
  return current;
}

/** Checks one decoded, lower-cased value; returns what was found, or undefined. `classes` are the value's character classes. */
export function detectJndi(input: string, classes = charClasses(input)): string | undefined {
  // A lookup needs `${`, written out or as JavaScript escapes.
  if (input.length < 6 || (classes & (DOLLAR | BACKSLASH)) === 0) return undefined;
  const value = decodeScriptEscapes(input);
  if (value.indexOf('${') < 0) return undefined;
  const resolved = resolveLookups(value);
  for (const lookup of DANGEROUS_LOOKUPS) {
    const at = resolved.indexOf(`\u0000${lookup}:`);
    if (at < 0) continue;
    if (lookup !== 'jndi') return `${lookup} lookup`;
    const target = resolved.slice(at + 6, at + 16);
    const protocol = JNDI_PROTOCOLS.find((candidate) => target.startsWith(`${candidate}:`));
    return `jndi lookup${protocol ? ` over ${protocol}` : ''}${input.indexOf('${jndi:') < 0 ? ' (obfuscated)' : ''}`;
  }
  return undefined;
}

const slot = repeatSlot();

const check: ValueCheck = (value, _location, classes) => detectJndi(value, classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

export const jndiLookup: Detector = {
  name: 'jndi',
  description: 'JNDI and other interpolation lookups (Log4Shell, Commons Text) in parameters, headers, the user agent and the path, obfuscated or not.',
  detect: (view: EventView) => inspect(view.inputs) ?? inspect(view.pathAsInput),
};
