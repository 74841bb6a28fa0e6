/*
 * Shell glob matching (`?`, `*`, `[abc]`, `[a-z]`, `[!x]`) of an attacker's pattern against a fixed
 * path, to tell whether `/???/c?t` or `/e*c/p*d` would expand to a system file. The matcher keeps
 * only the last `*` to return to, so it runs in O(pattern × text) time without recursion.
 */

/** Reads a bracket expression at `start` (the `[`); returns whether `char` is in it and where it ends, or undefined when unclosed. */
function matchClass(pattern: string, start: number, char: string): { matched: boolean; end: number } | undefined {
  let i = start + 1;
  const negated = pattern[i] === '!' || pattern[i] === '^';
  if (negated) i++;
  let matched = false;
  let first = true;
  while (i < pattern.length && (pattern[i] !== ']' || first)) {
    first = false;
    if (pattern[i + 1] === '-' && pattern[i + 2] !== undefined && pattern[i + 2] !== ']') {
      if (char >= pattern[i] && char <= pattern[i + 2]) matched = true;
      i += 3;
    } else {
      if (pattern[i] === char) matched = true;
      i++;
    }
  }
  if (i >= pattern.length) return undefined;
  return { matched: matched !== negated, end: i + 1 };
}

/** Reports whether the glob `pattern` matches all of `text`. `*` and `?` match `/` too, which is enough for this use. */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const token = pattern[p];
    if (token === '*') {
      starP = p++;
      starT = t;
      continue;
    }
    if (token === '?') {
      p++;
      t++;
      continue;
    }
    if (token === '[') {
      const result = matchClass(pattern, p, text[t]);
      if (result?.matched) {
        p = result.end;
        t++;
        continue;
      }
      if (!result && text[t] === '[') {
        p++;
        t++;
        continue;
      }
    } else if (token !== undefined && token === text[t]) {
      p++;
      t++;
      continue;
    }
    if (starP < 0) return false;
    p = starP + 1;
    t = ++starT;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
