/**
 * Removes path parameters from a URL path: `;jsessionid=…` in `/cart;jsessionid=…/items`. RFC
 * 3986 notes that `;` often delimits a segment's parameters, and Java servlet containers put
 * session ids there. Routes are built without them, so a session id makes no route of its own.
 */
export function withoutPathParameters(path: string): string {
  let semicolon = path.indexOf(';');
  if (semicolon < 0) return path;
  let result = '';
  let copied = 0;
  while (semicolon >= 0) {
    result += path.slice(copied, semicolon);
    const slash = path.indexOf('/', semicolon);
    if (slash < 0) return result;
    copied = slash;
    semicolon = path.indexOf(';', slash);
  }
  return result + path.slice(copied);
}
