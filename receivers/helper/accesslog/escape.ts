/**
 * Undoes the escaping gateways apply to logged values: `\xHH` (nginx escapes `"`, `\`, control
 * characters and bytes above 0x7F this way), `\"` and `\\` (Apache), `\uXXXX` (nginx
 * `escape=json`), and `\n`, `\t`, `\r`. Escaped byte runs are decoded as UTF-8, with invalid
 * sequences replaced by U+FFFD.
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
      if (next === 'x' && isHex(text, i + 2, 2)) {
        bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      flushBytes();
      if (next === 'u' && isHex(text, i + 2, 4)) {
        output += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 5;
        continue;
      }
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

function isHex(text: string, start: number, length: number): boolean {
  if (start + length > text.length) return false;
  for (let i = start; i < start + length; i++) {
    const code = text.charCodeAt(i);
    const hex = (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
    if (!hex) return false;
  }
  return true;
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };
