/**
 * Rejects regular expressions that can backtrack without bound on crafted input: a quantified
 * group that itself contains a quantifier (`(a+)+`, `(\w*)*`, `(a|aa)+` style nesting) and
 * backreferences. Matching also runs on bounded input (see MAX_REGEX_INPUT), so an accepted
 * pattern stays cheap even on long attacker text.
 */
export const MAX_REGEX_INPUT = 2048;

export function checkRegexSafety(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (error) {
    return `invalid regular expression: ${(error as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'regular expressions with backreferences are not allowed, because they can take exponential time';
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
