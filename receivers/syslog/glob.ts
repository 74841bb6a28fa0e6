/**
 * Compiles a glob pattern (`*` matches any run of characters, `?` one character, everything else
 * itself) into a test of whole words. Matching runs in O(pattern × word) time at worst, with no
 * backtracking beyond the last `*`, so a word from the network cannot make it slow.
 */
export function globMatcher(pattern: string): (word: string) => boolean {
  return (word) => matchGlob(pattern, word);
}

function matchGlob(pattern: string, word: string): boolean {
  let p = 0;
  let w = 0;
  // Where the last `*` was seen in the pattern, and the word position it currently covers up to.
  let star = -1;
  let starWord = 0;
  while (w < word.length) {
    const char = pattern[p];
    if (char === '*') {
      star = p++;
      starWord = w;
    } else if (p < pattern.length && (char === '?' || char === word[w])) {
      p++;
      w++;
    } else if (star >= 0) {
      p = star + 1;
      w = ++starWord;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
