import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { BACKSLASH, charClasses, DOT, SLASH } from '../chars.js';
import { NeedleSet } from './needles.js';

/*
 * Path traversal and local file inclusion: `../` sequences that climb out of the served
 * directory, and references to operating-system files that no web request needs. Backslashes are
 * read as slashes, as Windows servers do; every check is a substring search.
 */

/**
 * Operating-system paths, lower-case, without the leading slash. A match must start at a path
 * boundary, and an entry without a trailing slash must end at one, so `etc/passwd` matches
 * `/etc/passwd` and `etc/passwd%00.png` but not `etc/passwords.html`.
 */
const SYSTEM_PATHS = [
  'etc/passwd', 'etc/shadow', 'etc/group', 'etc/groups', 'etc/gshadow', 'etc/hosts', 'etc/hostname', 'etc/issue', 'etc/motd',
  'etc/subuid', 'etc/subgid', 'etc/sudoers', 'etc/crontab', 'etc/fstab', 'etc/mtab', 'etc/resolv.conf', 'etc/shells', 'etc/profile',
  'etc/environment', 'etc/os-release', 'etc/lsb-release', 'etc/redhat-release', 'etc/debian_version', 'etc/f5-release', 'etc/ssh/',
  'etc/apache2/', 'etc/httpd/', 'etc/nginx/', 'etc/mysql/', 'etc/my.cnf', 'etc/php', 'etc/security/', 'etc/pam.d/', 'etc/init.d/',
  'etc/systemd/', 'etc/kubernetes/', 'etc/docker/', 'etc/ssl/private', 'etc/master.passwd', 'etc/inetd.conf', 'etc/network/interfaces',
  'proc/self/', 'proc/version', 'proc/cpuinfo', 'proc/meminfo', 'proc/net/', 'proc/sys/', 'proc/mounts', 'proc/cmdline',
  'proc/1/', 'sys/class', 'sys/kernel/', 'sys/devices/', 'sys/firmware/', 'root/', 'var/log/', 'var/run/secrets', 'var/lib/mysql',
  'var/spool/cron', 'var/mail/', 'usr/local/etc/', 'usr/local/apps/', 'bin/sh', 'bin/bash', 'bin/busybox', 'bin/id', 'dev/tcp/',
  '.ssh/id_rsa', '.ssh/id_dsa', '.ssh/id_ecdsa', '.ssh/id_ed25519', '.ssh/authorized_keys', '.ssh/known_hosts', '.aws/credentials',
  '.aws/config', '.docker/config.json', '.docker/secrets', '.kube/config', '.bash_history', '.zsh_history', '.netrc', '.pgpass',
  '.git-credentials', '.mysql_history',
  'windows/win.ini', 'win.ini', 'boot.ini', 'windows/system.ini', 'windows/system32/', 'winnt/win.ini', 'winnt/system32/',
  'system32/drivers/etc', 'windows/repair/', 'windows/panther/', 'inetpub/wwwroot/', 'autoexec.bat', 'web-inf/web.xml', 'meta-inf/manifest.mf',
];

const BOUNDARY_BEFORE = new Set(['/', ' ', '=', ':', "'", '"', '(', ',', ';', '|', '>', '<', '@', '`']);

/** Entries too common as route names to count in the URL path itself; they still count in parameters. */
const VALUE_ONLY = new Set(['root/']);

const SYSTEM_PATH_SET = new NeedleSet(SYSTEM_PATHS);

/** Finds a system path in slash-normalized text; returns it or undefined. */
export function findSystemPath(text: string, inUrlPath = false): string | undefined {
  const hits = SYSTEM_PATH_SET.hits(text);
  for (let i = 0; i < hits.length; i++) {
    const { needle, start } = hits[i];
    const path = SYSTEM_PATHS[needle];
    if (inUrlPath && VALUE_ONLY.has(path)) continue;
    const before = start === 0 ? '/' : text[start - 1];
    if (!BOUNDARY_BEFORE.has(before) && !(path.startsWith('.') && start > 0)) continue;
    const after = text[start + path.length];
    if (path.endsWith('/') || after === undefined || !/[a-z0-9_]/.test(after)) return path.replace(/\/$/, '');
  }
  return undefined;
}

function slashed(value: string): string {
  let text = value.indexOf('\\') >= 0 ? value.replaceAll('\\', '/') : value;
  if (text.indexOf('//') >= 0) text = text.replace(/\/{2,}/g, '/');
  if (text.indexOf('/./') >= 0) text = text.replaceAll('/./', '/');
  return text;
}

function countClimbs(value: string): number {
  let count = 0;
  for (let at = value.indexOf('../'); at >= 0; at = value.indexOf('../', at + 2)) count++;
  if (value.endsWith('/..') || value === '..') count++;
  return count;
}

/** Checks a decoded, lower-cased parameter or header value; returns what was found, or undefined. `classes` are the value's character classes. */
export function detectTraversal(value: string, classes = charClasses(value)): string | undefined {
  // Climbs need dots, and every system path has a slash or a dot.
  if (value.length < 3 || (classes & (DOT | SLASH | BACKSLASH)) === 0) return undefined;
  const text = slashed(value);
  const climbs = countClimbs(text);
  const systemPath = findSystemPath(text);
  if (climbs >= 2) return `${climbs} parent-directory steps${systemPath ? ` to ${systemPath}` : ''}`;
  if (climbs === 1 && (systemPath || text.startsWith('../'))) return `parent-directory step${systemPath ? ` to ${systemPath}` : ''}`;
  if (systemPath) return `system file ${systemPath}`;
  return undefined;
}

/** Finds a path segment that climbs: `..`, `..;` (a Tomcat path parameter), `...` or `....`. */
function climbSegment(text: string): string | undefined {
  for (const segment of text.split('/')) {
    if (segment === '..' || segment.startsWith('..;') || segment === '...' || segment === '....') return segment;
  }
  return undefined;
}

/** Reports whether the raw path ends in `%3f` or `%253f`, in any case. */
function endsWithEncodedQuestionMark(rawPath: string): boolean {
  const length = rawPath.length;
  if (length < 3 || (rawPath.charCodeAt(length - 1) | 0x20) !== 0x66 || rawPath.charCodeAt(length - 2) !== 0x33) return false;
  const lower = rawPath.slice(-5).toLowerCase();
  return lower.endsWith('%3f') || lower.endsWith('%253f');
}

/**
 * Reports whether the raw query ends in `%3f` written in lower case, or in `%253f` in any case. A
 * question mark there lets a rewrite rule that copies the query into a file path cut that path
 * short (the Apache mod_rewrite confusion of CVE-2024-38475). Browsers (the WHATWG URL standard)
 * and the URL encoders of Python, Go, Java and JavaScript write upper-case hex digits and encode
 * once, so a search for "why?" arrives as `why%3F`. The other forms come from hand-made requests.
 */
function endsWithHandEncodedQuestionMark(rawQuery: string): boolean {
  return rawQuery.endsWith('%3f') || rawQuery.slice(-5).toLowerCase() === '%253f';
}

/**
 * Checks the request path, raw and decoded. Clients resolve `..` segments before sending, so any
 * that remain were put there on purpose. An encoded `?` ending the path confuses servers that
 * decode before routing.
 */
export function detectPathTraversal(rawPath: string, path: string): string | undefined {
  const text = slashed(path);
  const climb = text.indexOf('..') >= 0 ? climbSegment(text) : undefined;
  const systemPath = findSystemPath(text, true);
  if (climb) return `parent-directory segment "${climb}"${systemPath ? ` to ${systemPath}` : ''}`;
  if (systemPath) return `system file ${systemPath}`;
  if (text.indexOf(':') >= 0 && /^\/?[a-z]:\//.test(text)) return 'windows drive path';
  // An encoded `?` closing the path cuts off what a rewrite rule appends to it (the Apache mod_rewrite confusion attacks).
  if (endsWithEncodedQuestionMark(rawPath)) return 'encoded question mark ending the path';
  return undefined;
}

const slot = repeatSlot();

const check: ValueCheck = (value, _location, classes) => detectTraversal(value, classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

export const pathTraversal: Detector = {
  name: 'path_traversal',
  description: 'Parent-directory climbs and operating-system file references in the path, parameters, cookies and headers.',
  detect: (view: EventView) => {
    const inPath = detectPathTraversal(view.event['url.path'] ?? '', view.path);
    if (inPath) return `url.path: ${inPath}`;
    const query = view.event['url.query'];
    if (query && endsWithHandEncodedQuestionMark(query)) return 'url.query: hand-encoded question mark ending the query';
    return inspect(view.inputs);
  },
};
