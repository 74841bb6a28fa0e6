import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'okhttp/4.12.0',
];
const PAGES = ['/', '/products', '/products/1042', '/products/77', '/cart', '/api/v1/products?page=2', '/api/v1/orders/5521', '/search?q=red+dress', '/static/css/main.css', '/static/js/app.js', '/images/logo.svg', '/about'];

function nginxTime(ms: number): string {
  const date = new Date(ms);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function line(address: string, ms: number, method: string, target: string, status: number, agent: string): string {
  return `${address} - - [${nginxTime(ms)}] "${method} ${target} HTTP/1.1" ${status} ${status === 404 ? 153 : 1834} "-" "${agent}"`;
}

/**
 * Builds a ten-minute nginx access log ending now: benign browsing from twenty clients, and one
 * client each for SQL injection, XSS, path traversal, a scanner user agent, a burst of 404
 * probes, a login brute force, and requests for secret files. Addresses are from the
 * documentation ranges (RFC 5737).
 */
export function demoLogLines(now = Date.now()): string[] {
  const start = now - 10 * 60_000;
  const events: [number, string][] = [];
  for (let i = 0; i < 300; i++) {
    const client = `198.51.100.${10 + (i % 20)}`;
    const page = PAGES[(i * 7) % PAGES.length];
    events.push([start + i * 1900, line(client, start + i * 1900, 'GET', page, 200, BROWSERS[i % BROWSERS.length])]);
  }
  const attack = (address: string, offset: number, gap: number, requests: [string, string, number][], agent = BROWSERS[0]) => {
    requests.forEach(([method, target, status], i) => events.push([start + offset + i * gap, line(address, start + offset + i * gap, method, target, status, agent)]));
  };
  attack('203.0.113.10', 60_000, 3000, [
    ['GET', "/products?id=1'", 500], ['GET', "/products?id=1%27%20OR%20%271%27%3D%271", 200],
    ['GET', '/products?id=1%20UNION%20SELECT%20username,password%20FROM%20users--', 500], ['GET', "/login?user=admin'--", 200],
  ]);
  attack('203.0.113.21', 120_000, 4000, [
    ['GET', '/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E', 200], ['GET', '/search?q=%22%3E%3Csvg%2Fonload%3Dalert(1)%3E', 200],
  ]);
  attack('192.0.2.55', 180_000, 2000, [
    ['GET', '/download?file=..%2f..%2f..%2f..%2fetc%2fpasswd', 404], ['GET', '/static/../../../../etc/passwd', 400],
  ]);
  attack('203.0.113.77', 200_000, 5000, [['GET', '/', 200], ['GET', '/products', 200]], 'sqlmap/1.7.2#stable (https://sqlmap.org)');
  attack('198.51.100.99', 240_000, 1500, ['admin', 'wp-admin', 'phpmyadmin', 'console', 'jenkins', 'solr', 'old', 'test', 'dev', 'staging', 'backup', 'temp', 'install.php', 'setup.php', 'manager/html', 'shell.php', 'xmlrpc.php', 'cgi-bin/test.cgi']
    .map((path): [string, string, number] => ['GET', `/${path}`, 404]), 'python-requests/2.31.0');
  attack('192.0.2.200', 300_000, 6000, Array.from({ length: 12 }, (): [string, string, number] => ['POST', '/login', 401]));
  attack('203.0.113.150', 420_000, 2500, [['GET', '/.env', 404], ['GET', '/.git/config', 404], ['GET', '/backup.sql', 404]], 'curl/8.5.0');
  return events.sort((a, b) => a[0] - b[0]).map(([, text]) => text);
}

/** Writes the demo log; with `ifMissing`, leaves an existing file alone. Returns the lines written. */
export function writeDemoLog(path: string, options: { ifMissing?: boolean } = {}): number {
  if (options.ifMissing && existsSync(path)) return 0;
  const lines = demoLogLines();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${lines.join('\n')}\n`);
  return lines.length;
}
