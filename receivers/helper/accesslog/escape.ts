/**
 * Undoes the escaping gateways apply to logged values: `\xHH` (nginx escapes `"`, `\`, control
 * characters and bytes above 0x7F this way), `\"` and `\\` (Apache), and `\n`, `\t`, `\r`.
 * Escaped byte runs are decoded as UTF-8, with invalid sequences replaced by U+FFFD.
 */
export function unescapeLogValue(text: string): string {
  let output = '';
  let bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length === 0) return;
    output += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 2, i + 4))) {
        bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      flushBytes();
      const simple = SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        output += simple;
        i += 1;
        continue;
      }
      output += char;
      continue;
    }
    flushBytes();
    output += char;
  }
  flushBytes();
  return output;
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };
