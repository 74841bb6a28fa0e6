import type { Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { COLON } from '../chars.js';

/*
 * Remote file inclusion: a parameter that hands an `include` or `require` a URL on the attacker's
 * server. The telltale shapes are a URL ending in `?` or a NUL byte (so the suffix the
 * application appends, such as `.php`, becomes a query or is cut off) and a URL whose host is a
 * bare IPv4 address.
 */

/** Checks one decoded, lower-cased parameter value; returns what was found, or undefined. */
export function detectRemoteFileInclusion(value: string): string | undefined {
  if (value.length < 10) return undefined;
  const scheme = /^(https?|ftps?):\/\/([^/?#\s]{1,256})/.exec(value);
  if (!scheme) return undefined;
  const rest = value.slice(scheme[0].length);
  if (/\?+$/.test(rest) || /\?{2}/.test(value) || rest.indexOf('\0') >= 0 || value.endsWith('%00')) return 'url ending in "?" to cut off the appended suffix';
  if (/^(?:[^@]{0,128}@)?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?$/.test(scheme[2]) && /\.(?:txt|php|inc|gif|jpg|png|sh|pl|py)(?:\?|$)/.test(rest)) return `script url on address ${scheme[2]}`;
  return undefined;
}

function inspect(values: Inspected[]): string | undefined {
  for (const { location, value, classes } of values) {
    if ((classes & COLON) === 0 || !location.startsWith('url.query:')) continue;
    const found = detectRemoteFileInclusion(value);
    if (found) return `${location}: ${found}`;
  }
  return undefined;
}

export const remoteFileInclusion: Detector = {
  name: 'rfi',
  description: 'Remote file inclusion: query parameters holding a URL that ends in "?" or a NUL byte, or a script URL on a bare IP address.',
  detect: (view: EventView) => inspect(view.query),
};
