/**
 * Matches text against a pattern where `*` stands for any run of characters (including `/`) and
 * every other character stands for itself. The match walks both strings once and backtracks only
 * to the last `*`, so its cost is at most the product of the two lengths and never exponential,
 * which matters because request paths come from attackers.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
