import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Decision } from '../../helper/enforcement/decision.js';

/**
 * Keys written into the file. Identities and API key fingerprints come from requests, so a value
 * outside this set is left out rather than escaped. The set excludes spaces, quotes, `;`, `#`,
 * `{`, `}`, `$` and a leading `~`, the characters that could change the meaning of an nginx or
 * HAProxy file. Addresses are written in their normalized form.
 */
const SAFE_KEY = /^[A-Za-z0-9._:@+/=-]{1,256}$/;

/** Names nginx `map` and `geo` blocks read as parameters; a key with one of these names gets a leading backslash. */
const NGINX_SPECIAL = new Set(['default', 'hostnames', 'include', 'volatile', 'delete', 'ranges', 'proxy', 'proxy_recursive']);

export function isSafeKey(value: string): boolean {
  return SAFE_KEY.test(value);
}

/**
 * Renders the file: a comment header, then one line per decision, sorted so that equal sets give
 * equal files. nginx lines are `key value;`, usable inside `map $remote_addr $deny { … }` or
 * `geo $deny { … }` through `include`; HAProxy lines are `key value`, as map files take them.
 */
export function renderDenyList(decisions: Decision[], format: 'nginx' | 'haproxy', value: string, writer: string): string {
  const keys = [...new Set(decisions.map((decision) => decision.value).filter(isSafeKey))].sort();
  const lines = [`# Written by Watchpost (${writer}); ${keys.length} entries. The file is replaced on every change; do not edit it.`];
  for (const key of keys) {
    if (format === 'haproxy') lines.push(`${key} ${value}`);
    else lines.push(`${NGINX_SPECIAL.has(key) ? `\\${key}` : key} ${value};`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Replaces a file atomically: the text is written to a temporary file in the same directory and
 * flushed to disk, then renamed over the target, and the directory is flushed too. A reader sees
 * either the old file or the new one, never a partial one.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
