import { RE2JS } from 're2js';

/**
 * A regular expression in RE2 syntax, matched in time linear in the input by re2js. User-supplied
 * patterns run on attacker-controlled text (attribute values, log bodies), so they must not use
 * a backtracking engine; RE2 is also the syntax the OpenTelemetry Collector's configs use.
 */
export interface SafeRegex {
  readonly source: string;
  /** Whether the pattern matches anywhere in the text. */
  test(text: string): boolean;
  /** Replaces every match with the result of `replace`. */
  replaceAll(text: string, replace: (match: string) => string): string;
}

/** Compiles an RE2 pattern; returns an error message instead of throwing for invalid syntax. */
export function compileSafeRegex(pattern: string): SafeRegex | string {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    return `invalid RE2 regular expression ${JSON.stringify(pattern)}: ${error instanceof Error ? error.message : String(error)}`;
  }
  const regex: SafeRegex = {
    source: pattern,
    test: (text) => compiled.matcher(text).find(),
    replaceAll(text, replace) {
      const matcher = compiled.matcher(text);
      let output = '';
      let last = 0;
      let from = 0;
      while (from <= text.length && matcher.find(from)) {
        const start = matcher.start();
        const end = matcher.end();
        // Empty matches (such as from `\b`) would replace nothing; step over them.
        if (end === start) {
          from = start + 1;
          continue;
        }
        output += text.slice(last, start) + replace(text.slice(start, end));
        last = end;
        from = end;
      }
      return last === 0 ? text : output + text.slice(last);
    },
  };
  return regex;
}
