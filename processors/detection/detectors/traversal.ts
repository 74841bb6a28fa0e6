import type { Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';

/*
 * Path traversal: `../` sequences that climb out of the served directory, and references to
 * system files that no web request needs. Backslashes are read as slashes, as Windows servers do.
 */

const SYSTEM_FILES = [
  'etc/passwd', 'etc/shadow', 'etc/hosts', 'etc/group', 'etc/issue', 'etc/hostname', 'proc/self/', 'proc/version',
  'windows/win.ini', 'win.ini', 'boot.ini', 'windows/system32', 'winnt/', 'inetpub/', 'system32/drivers/etc',
  'var/log/', 'usr/local/etc', 'bin/sh', 'bin/bash', 'web-inf/web.xml',
];

function countClimbs(value: string): number {
  let count = 0;
  for (let at = value.indexOf('../'); at >= 0; at = value.indexOf('../', at + 2)) count++;
  if (value.endsWith('/..')) count++;
  return count;
}

/** Checks one decoded, lower-cased value; returns what was found, or undefined. */
export function detectTraversal(value: string, isParameter: boolean): string | undefined {
  if (value.length < 3) return undefined;
  const slashed = value.indexOf('\\') >= 0 ? value.split('\\').join('/') : value;
  const climbs = countClimbs(slashed);
  const systemFile = SYSTEM_FILES.find((file) => slashed.indexOf(file) >= 0);
  if (climbs >= 2) return `${climbs} parent-directory steps${systemFile ? ` to ${systemFile}` : ''}`;
  if (climbs === 1 && (systemFile || slashed.startsWith('../'))) return `parent-directory step${systemFile ? ` to ${systemFile}` : ''}`;
  if (systemFile && isParameter && (slashed.startsWith('/') || /^[a-z]:\//.test(slashed) || slashed.startsWith('file:'))) return `absolute path to ${systemFile}`;
  return undefined;
}

function inspect(values: Inspected[], isParameter: boolean): string | undefined {
  for (const { location, value } of values) {
    const found = detectTraversal(value, isParameter);
    if (found) return `${location}: ${found}`;
  }
  return undefined;
}

export const pathTraversal: Detector = {
  name: 'path_traversal',
  description: 'Parent-directory climbs and system file references in the path and query parameters.',
  detect: (view: EventView) => inspect([{ location: 'url.path', value: view.path }], false) ?? inspect(view.query, true),
};
