import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The directory of Watchpost's package.json, found from this file whether it runs from the
 * TypeScript sources or from dist/. Built-in files such as the default rule pack live below it.
 */
export function packageRoot(): string {
  if (root) return root;
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('cannot find the Watchpost package root');
    directory = parent;
  }
  root = directory;
  return root;
}

/** The built-in default rule pack. */
export function defaultRulesPath(): string {
  return join(packageRoot(), 'configs', 'rules');
}
