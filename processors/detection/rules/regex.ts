import { setFlagsFromString } from 'node:v8';

/*
 * Rule regexes run on attacker text, so none may backtrack without bound. V8 can run a regex on
 * a linear-time engine once it has backtracked too often (50,000 times by default), for the
 * patterns that engine accepts: no backreferences, no lookarounds, no `i` or `u` flag, and no
 * counted repetition above 16. The loader admits only such patterns, and a rule that folds case
 * lower-cases the pattern's letters and the value in place of the `i` flag. Polynomial patterns
 * such as `\d*\d*\d*x` or `.*a.*b.*c` pass any nesting check, and they are why the fallback
 * is needed. Both V8 flags are process-wide, so worker threads have them too.
 */
setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Characters of a field that a rule regex reads; the rest of a longer value is not matched. */
export const MAX_REGEX_INPUT = 2048;

/**
 * Returns why a rule regex is not allowed, or undefined. It rejects invalid syntax,
 * backreferences, escapes that JavaScript reads as a plain letter (`\A`), a quantified group that
 * itself contains a quantifier (`(a+)+`, `(a|aa)+`), and any pattern V8's linear-time engine cannot run.
 */
export function checkRegexSafety(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (error) {
    return `invalid regular expression: ${(error as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'regular expressions with backreferences are not allowed, because they can take exponential time';
  const unknown = unknownEscape(pattern);
  if (unknown) return `regular expression "${pattern}" uses \\${unknown}, which JavaScript reads as the letter ${unknown}; write ^ or $ for anchors (not \\A, \\z), and the letter itself otherwise`;
  try {
    new RegExp(pattern, 'l');
  } catch {
    return `regular expression "${pattern}" cannot run in linear time: lookarounds and counted repetitions above 16 (such as {1,64}) are not supported; use + or * instead, since a field is cut to ${MAX_REGEX_INPUT} characters before matching`;
  }
  // Track, for each open group, whether it contains a quantifier or an alternation.
  const stack: { quantified: boolean; alternation: boolean }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      i++;
      continue;
    }
    if (char === '[') {
      const end = findClassEnd(pattern, i);
      i = end;
      if (isQuantifier(pattern, i + 1) && stack.length > 0) stack[stack.length - 1].quantified = true;
      continue;
    }
    if (char === '(') {
      stack.push({ quantified: false, alternation: false });
      continue;
    }
    if (char === '|' && stack.length > 0) stack[stack.length - 1].alternation = true;
    if (char === ')') {
      const group = stack.pop();
      if (group && isQuantifier(pattern, i + 1) && (group.quantified || group.alternation)) {
        return `regular expression "${pattern}" nests a quantifier inside a repeated group, which can take exponential time; rewrite it without the nesting`;
      }
      if (group && stack.length > 0 && (group.quantified || isQuantifier(pattern, i + 1))) stack[stack.length - 1].quantified = true;
      continue;
    }
    if (isQuantifier(pattern, i) && stack.length > 0) stack[stack.length - 1].quantified = true;
  }
  return undefined;
}

function isQuantifier(pattern: string, index: number): boolean {
  const char = pattern[index];
  return char === '*' || char === '+' || (char === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(index)));
}

function findClassEnd(pattern: string, start: number): number {
  for (let i = start + 1; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']' && i > start + 1) return i;
  }
  return pattern.length;
}

/**
 * Lower-cases the letters of a pattern outside escapes, so that it matches a lower-cased value
 * the way the pattern with the `i` flag matches the original. `\D`, `\W` and `\S` keep their case.
 */
export function foldPattern(pattern: string): string {
  let folded = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      folded += pattern[i] + pattern[i + 1];
      i++;
    } else {
      folded += pattern[i].toLowerCase();
    }
  }
  return folded;
}

/** Letters that make an escape in a JavaScript regular expression without the u flag. */
const ESCAPE_LETTERS = new Set(['b', 'B', 'd', 'D', 'w', 'W', 's', 'S', 'f', 'n', 'r', 't', 'v', 'c', 'x', 'u']);
/** Escapes that stand for a set of characters, which cannot end a range. */
const CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S']);

/** Returns the letter of an escape that JavaScript reads as the plain letter (`\A`, `\z`), or undefined. */
function unknownEscape(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    const next = pattern[i + 1] ?? '';
    if (/[A-Za-z]/.test(next) && !ESCAPE_LETTERS.has(next)) return next;
    i++;
  }
  return undefined;
}

/**
 * Returns why a pattern cannot be matched with `ignore_case`, or undefined. Folding lower-cases
 * the pattern's letters, which is the `i` flag's meaning only when every letter is written as
 * itself: an escape that names a character (`\x41`, `\u0041`, `\cJ`) keeps its case, and a range
 * whose ends are not two letters of one case or two digits (`[A-z]`, `[@-Z]`) changes its members.
 */
export function checkFoldable(pattern: string): string | undefined {
  const hint = 'with ignore_case, write letters as themselves and use ranges of letters of one case ([a-z]) or of digits';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next === 'x' || next === 'u' || next === 'c') return `regular expression "${pattern}" escapes a character as \\${next}; ${hint}`;
      i++;
    } else if (char === '[') {
      const range = crossKindRange(pattern, i + 1);
      if (range.problem) return `regular expression "${pattern}" has the range ${range.problem}; ${hint}`;
      i = range.end;
    }
  }
  const folded = foldPattern(pattern);
  try {
    new RegExp(folded, 'l');
  } catch (error) {
    return `regular expression "${folded}" (lower-cased for ignore_case) is invalid: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Reads a character class from just after its `[` and returns the index of its `]`, with the
 * first range whose ends differ in kind. A `-` first, last, next to a class escape (`[\w-.]`) or
 * right after a range (`[0-9-_]`) is a literal, as JavaScript reads it.
 */
function crossKindRange(pattern: string, start: number): { end: number; problem?: string } {
  let i = pattern[start] === '^' ? start + 1 : start;
  /** The previous item, when it is a single character that a `-` could start a range from. */
  let previous: string | undefined;
  while (i < pattern.length && pattern[i] !== ']') {
    const item = classItem(pattern, i);
    if (pattern[i] === '-' && previous !== undefined && i + 1 < pattern.length && pattern[i + 1] !== ']') {
      const to = classItem(pattern, i + 1);
      if (to.char !== undefined && !sameKindRange(previous, to.char)) return { end: to.next, problem: `${previous}-${to.char}` };
      previous = undefined;
      i = to.next;
      continue;
    }
    previous = item.char;
    i = item.next;
  }
  return { end: i };
}

/** Reads one class item, a character or an escape. `char` is undefined for a class escape such as `\w`. */
function classItem(pattern: string, at: number): { char?: string; next: number } {
  if (pattern[at] !== '\\') return { char: pattern[at], next: at + 1 };
  const letter = pattern[at + 1] ?? '';
  return { char: CLASS_ESCAPES.has(letter) ? undefined : letter, next: at + 2 };
}

function sameKindRange(from: string, to: string): boolean {
  return (/[a-z]/.test(from) && /[a-z]/.test(to)) || (/[A-Z]/.test(from) && /[A-Z]/.test(to)) || (/[0-9]/.test(from) && /[0-9]/.test(to));
}
