import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

/*
 * Path globs for `include` and `exclude`: `*` and `?` within one path segment, `[abc]` and `[!abc]`
 * classes, `{a,b}` alternatives, and `**` for any number of directories. Patterns are resolved
 * against the working directory. Symbolic links to files are followed; links to directories are
 * not, so a link cycle cannot make a scan endless.
 */

/** Directory levels a `**` descends at most. */
const MAX_DEPTH = 16;

const GLOB_CHARS = /[*?[{]/;

/** Converts one glob segment (no `/`) to a regular expression source. */
function segmentSource(glob: string): string {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else if (char === '{') {
      const close = glob.indexOf('}', i + 1);
      if (close < 0) {
        source += '\\{';
        continue;
      }
      source += `(?:${glob.slice(i + 1, close).split(',').map(segmentSource).join('|')})`;
      i = close;
    } else {
      source += char.replace(/[.+^$()|\\]/g, '\\$&');
    }
  }
  return source;
}

/** Compiles a glob segment into an anchored matcher. */
export function segmentMatcher(glob: string): RegExp {
  return new RegExp(`^${segmentSource(glob)}$`);
}

/** Compiles a whole path glob into an anchored matcher; `**` matches across `/`. */
export function pathMatcher(pattern: string): RegExp {
  const absolute = resolve(pattern);
  const parts = absolute.split(sep).map((part) => (part === '**' ? '\u0000' : segmentSource(part)));
  const source = parts.join('/').replace(/\/\u0000\//g, '(?:/.*)?/').replace(/\/\u0000$/, '(?:/.*)?');
  return new RegExp(`^${source}$`);
}

/** Lists the regular files a pattern matches, sorted. A pattern without glob characters names one path. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const absolute = isAbsolute(pattern) ? pattern : resolve(pattern);
  if (!GLOB_CHARS.test(absolute)) return [absolute];
  const segments = absolute.split(sep);
  const firstGlob = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  const base = segments.slice(0, firstGlob).join(sep) || sep;
  const found = new Set<string>();
  await walk(base, segments.slice(firstGlob), 0, found);
  return [...found].sort();
}

async function walk(directory: string, rest: string[], depth: number, found: Set<string>): Promise<void> {
  if (rest.length === 0 || depth > MAX_DEPTH) return;
  const [segment, ...remaining] = rest;
  if (segment === '**') {
    await walk(directory, remaining, depth, found);
    for (const entry of await directories(directory)) await walk(join(directory, entry), rest, depth + 1, found);
    return;
  }
  if (!GLOB_CHARS.test(segment)) {
    const path = join(directory, segment);
    if (remaining.length === 0) {
      if (await isFile(path)) found.add(path);
    } else {
      await walk(path, remaining, depth + 1, found);
    }
    return;
  }
  const matcher = segmentMatcher(segment);
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!matcher.test(entry.name)) continue;
    const path = join(directory, entry.name);
    if (remaining.length === 0) {
      if (entry.isFile() || (entry.isSymbolicLink() && await isFile(path))) found.add(path);
    } else if (entry.isDirectory()) {
      await walk(path, remaining, depth + 1, found);
    }
  }
}

async function directories(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

async function isFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ?? false;
}
