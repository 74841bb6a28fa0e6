import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { ANGLE, BRACE, charClasses, DIGIT, DOLLAR, LETTER, PLUS, SPACE } from '../chars.js';
import { NeedleSet } from './needles.js';
import { globMatches } from './glob.js';
import { headAndTail } from '../decode.js';

/*
 * OS command injection: a value that a shell or cmd.exe would run as a command. Shell
 * obfuscations are undone first (`c''at`, `c\at`, `$@`, `${IFS}`, `{cat,/etc/passwd}`), then the
 * value is split at command separators and each command's first word is looked up. Words that are
 * also English ("time", "find", "who") need a separator before them and an argument that only
 * commands take (an option, a path, a redirection), so prose does not match.
 */

/** Commands whose name is not an English word, or is one only in technical text. */
const COMMANDS = new Set([
  'tac', 'nl', 'od', 'xxd', 'hexdump', 'strings', 'ls', 'locate', 'grep', 'egrep', 'fgrep', 'awk', 'gawk', 'mawk', 'sed', 'uniq', 'wc',
  'printf', 'whoami', 'uname', 'hostname', 'ifconfig', 'ipconfig', 'netstat', 'ps', 'pkill', 'killall', 'printenv', 'pwd', 'chmod',
  'chown', 'chgrp', 'rm', 'rmdir', 'mv', 'cp', 'ln', 'mkdir', 'mkfifo', 'mknod', 'dd', 'base64', 'base32', 'xargs', 'sh', 'bash', 'zsh',
  'ksh', 'csh', 'tcsh', 'dash', 'ash', 'busybox', 'python', 'python2', 'python3', 'perl', 'ruby', 'php', 'nodejs', 'lua', 'gcc',
  'curl', 'wget', 'lwp-download', 'nc', 'ncat', 'netcat', 'socat', 'telnet', 'ssh', 'scp', 'sftp', 'ftp', 'tftp', 'rsync',
  'nslookup', 'dig', 'ping6', 'traceroute', 'tracepath', 'arp', 'crontab', 'nohup', 'sudo', 'useradd', 'usermod', 'chpasswd',
  'umount', 'systemctl', 'openssl', 'gpg', 'tar', 'unzip', 'gzip', 'gunzip', 'bzip2', 'xz', 'vim', 'nmap', 'masscan', 'tcpdump',
  'msfconsole', 'msfvenom', 'powershell', 'pwsh', 'cmd', 'certutil', 'bitsadmin', 'mshta', 'rundll32', 'regsvr32', 'wmic',
  'net1', 'tasklist', 'taskkill', 'systeminfo', 'schtasks', 'cscript', 'wscript', 'msiexec', 'bcdedit', 'bcdboot', 'vssadmin',
  'netsh', 'icacls', 'takeown', 'findstr', 'quser', 'qwinsta', 'nltest', 'dsquery', 'kubectl', 'podman', 'terraform', 'ansible',
  'mysql', 'psql', 'sqlite3', 'redis-cli', 'strace', 'ltrace', 'gdb', 'iptables', 'sshpass', 'chattr', 'lsattr', 'getent', 'lastlog',
  'lsof', 'lscpu', 'lsblk', 'lsmod', 'insmod', 'modprobe', 'dmesg', 'journalctl', 'jq', 'php-cgi', 'invoke-webrequest',
  'invoke-expression', 'iex', 'iwr', 'start-process', 'invoke-restmethod', 'new-object', 'set-content', 'get-content', 'start-sleep',
  'cscli', 'ncat.exe', 'cmd.exe', 'powershell.exe', 'certutil.exe', 'whoami.exe', 'aa-disable', 'aa-exec', 'chef-client',
  'chef-shell', 'chef-vault', 'knife', 'ansible-playbook', 'ansible-vault', 'ansible-pull', 'ansible-console', 'ansible-config',
  'ansible-doc', 'ansible-galaxy', 'ansible-inventory', 'visudo', 'regedit', 'apt', 'apt-get', 'aptitude', 'yum', 'dnf', 'apk', 'rpm',
  'dpkg', 'll', 'sh.exe', 'bash.exe', 'bsdtar',
  // sqlite3 shell commands, which run programs (`.shell`, `.system`) or dump the database.
  '.shell', '.system', '.sh', '.databases', '.dump', '.import', '.output', '.load',
]);
/** Commands that are also everyday words; they need a separator before them and a command's argument shape. */
const AMBIGUOUS_COMMANDS = new Set([
  'cat', 'head', 'tail', 'more', 'less', 'find', 'sort', 'cut', 'tr', 'echo', 'id', 'who', 'w', 'env', 'set', 'export', 'kill', 'top',
  'touch', 'tee', 'ping', 'host', 'route', 'mount', 'shutdown', 'reboot', 'halt', 'sleep', 'timeout', 'su', 'passwd', 'service',
  'history', 'alias', 'unset', 'eval', 'exec', 'source', 'zip', 'vi', 'nano', 'ed', 'make', 'java', 'node', 'git', 'docker', 'helm',
  'aws', 'gcloud', 'az', 'type', 'del', 'copy', 'move', 'ren', 'reg', 'sc', 'ver', 'query', 'dir', 'net', 'ip', 'ss', 'df', 'du',
  'free', 'uptime', 'last', 'finger', 'groups', 'date', 'watch', 'perf', 'chef', 'yes', 'seq', 'at', 'fetch', 'expect', 'rc', 'time',
]);
/** Words that run the command after them; they are skipped when finding a command's name. */
const PREFIXES = new Set(['sudo', 'nohup', 'time', 'env', 'exec', 'command', 'builtin', 'xargs', 'timeout', 'nice', 'stdbuf', 'strace', 'then', 'do', 'else', '!']);
/** Shell variables that name a shell, used in place of one: `$SHELL -c …`. */
const SHELL_VARIABLES = new Set(['$shell', '${shell}', '$0', '${0}', '$bash', '${bash}']);
/** SMTP and POP3 verbs that a line break lets an attacker append to a mail command. */
const MAIL_VERBS = new Set(['ehlo', 'helo', 'mail', 'rcpt', 'data', 'quit', 'rset', 'vrfy', 'expn', 'help', 'auth', 'starttls', 'retr', 'list', 'top', 'apop', 'user', 'pass', 'stat', 'dele', 'uidl']);
/** IMAP verbs. IMAP commands start with a tag (`a001 select inbox`), so these count only after one: SQL's `select` has none. */
const IMAP_VERBS = new Set(['examine', 'select', 'login', 'fetch', 'capability', 'logout', 'list']);
/** Where globbed paths (`/???/??t`, `/et*\/p*wd`) are checked to lead. */
const GLOB_TARGETS = [
  '/etc', '/etc/passwd', '/etc/shadow', '/etc/hosts', '/etc/group', '/bin/cat', '/bin/sh', '/bin/bash', '/bin/nc', '/bin/ls', '/bin/busybox',
  '/usr/bin/id', '/usr/bin/wget', '/usr/bin/curl', '/usr/bin/whoami', '/usr/bin/python', '/usr/bin/python3', '/usr/bin/perl',
  '/usr/bin/uname', '/usr/bin/bash', '/usr/bin/nc', '/usr/bin/cat', '/bin/id', '/bin/uname',
];
/** PowerShell and cmd.exe phrases no other text has. */
const WINDOWS_PHRASES = ['win32_process', 'invoke-wmimethod', 'get-wmiobject', 'cmd /c', 'cmd.exe /c', 'cmd /k', 'powershell -', 'powershell.exe -', '-encodedcommand', '-inputformat none', 'downloadstring(', 'downloadfile(', 'net.webclient', 'certutil -urlcache', 'bitsadmin /transfer', '%comspec%', 'regsvr32 /s', 'start-sleep -s'];
const WINDOWS_PHRASE_SET = new NeedleSet(WINDOWS_PHRASES);
const MAX_SEGMENTS = 64;
/**
 * The usual probe for blind injection, `1;sleep 5`: one token (or none), a separator (a line
 * break too), and sleep, or /bin/sleep, with a number of seconds, then the end or another
 * separator. Prose has words before the separator (`wake 7; sleep 8`), and so does `a b;sleep 5`,
 * which is missed. Every quantifier is bounded and the classes do not overlap.
 */
const SLEEP_PROBE = /^[^\s;|&`(]{0,512}[ \t]{0,4}(?:;|\n|\|\|?|&&?|`|\$\()\s{0,4}(?:\/usr)?(?:\/bin\/)?sleep\s{1,4}\d{1,3}(?:\.\d{1,3})?s?\s{0,4}(?:[;|&`)#\n]|$)/;
/** Parameter names web shells and vulnerable tools take commands in; any command there counts. */
const COMMAND_PARAMETERS = new Set(['cmd', 'command', 'exec', 'execute', 'shell', 'run', 'system', 'cmdline']);

/**
 * Undoes shell obfuscation in a copy of the value: quotes and backslashes inside words, empty
 * expansions (`$@`, `${x}`, `$()`), `$IFS` as a space, and brace lists (`{cat,/etc/passwd}`).
 */
export function deobfuscateShell(value: string): string {
  let text = value;
  if (text.indexOf('$') >= 0) {
    text = text.replace(/\$\{ifs\}|\$ifs(?:\$9)?/g, ' ');
    // `${SHELL}` names a shell; it is kept as `$shell` rather than dropped as an empty expansion.
    text = text.replace(/\$\{(shell|bash|0)\}/g, '$$$1');
    text = text.replace(/\$[@!*#?_-]|\$\{[a-z_]{0,8}\}|\$\(\)/g, '');
  }
  if (text.indexOf('``') >= 0) text = text.replaceAll('``', '');
  if (text.indexOf('<()') >= 0 || text.indexOf('>()') >= 0) text = text.replaceAll('<()', '').replaceAll('>()', '');
  if (text.indexOf('\\') >= 0) text = text.replace(/\\(?=[a-z/.])/g, '');
  if (text.indexOf("'") >= 0 || text.indexOf('"') >= 0) text = text.replace(/['"]/g, '');
  if (text.indexOf('{') >= 0) text = text.replace(/\{([a-z0-9_./-]{0,32}),/g, ' $1 ').replace(/,(?=[a-z0-9_./-]{1,32}\})/g, ' ').replace(/([a-z0-9_./-])\}/g, '$1 ');
  return text;
}

interface Segment {
  text: string;
  /** True when a separator (`;`, `|`, `&`, a line break, a backquote, `$(`) came before it, not the value's start. */
  separated: boolean;
  /** True when `(` follows the segment's last character directly: `sleep(5)` is a function call, not a command. */
  called: boolean;
}

/** Command separators: `;`, `|`, `&`, line breaks, a backquote, parentheses and braces. */
function isSeparator(code: number): boolean {
  return code === 0x3b || code === 0x7c || code === 0x26 || code === 0x0a || code === 0x0d || code === 0x60 || code === 0x28 || code === 0x29 || code === 0x7b || code === 0x7d;
}

/** Splits a value into commands; of more than MAX_SEGMENTS, the first and last halves are kept, so padding `a;a;…` hides nothing. */
function splitCommands(text: string): Segment[] {
  const segments: Segment[] = [];
  let start = 0;
  let separated = false;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && !isSeparator(text.charCodeAt(i))) continue;
    if (i > start) segments.push({ text: text.slice(start, i), separated, called: text.charCodeAt(i) === 0x28 && !isSpace(text.charCodeAt(i - 1)) });
    separated = true;
    start = i + 1;
  }
  return headAndTail(segments, MAX_SEGMENTS);
}

/** Reports whether a word is an argument only commands take: an option, a path, a URL, an address, a host or file name, a redirection. */
function isCommandArgument(word: string | undefined): boolean {
  if (!word) return false;
  const first = word[0];
  if (first === '-' && word.length > 1 && /[a-z-]/.test(word[1])) return true;
  if (first === '/' || first === '~' || first === '>' || first === '<' || first === '$' || word.startsWith('./') || word.startsWith('../')) return true;
  if (word.includes('://') || /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/.test(word) || /^[a-z]:[\\/]/.test(word)) return true;
  if (/^[a-z0-9_-]{1,63}\.(?:[a-z]{2,6}|sh|py|pl|php|txt|log|conf|exe|bat|ps1)$/.test(word)) return true;
  return /^[a-z]+=\//.test(word);
}

function isSystemArgument(word: string): boolean {
  return word[0] === '>' || word[0] === '<' || /^\/(?:etc|bin|sbin|usr|proc|dev|tmp|var|root|home|sys|opt)(?:\/|$)/.test(word) || /^[a-z]:\\/.test(word);
}

/** Commands that send HTTP requests themselves, so their bare name is a plausible user agent. */
const HTTP_CLIENTS = new Set(['wget', 'curl', 'fetch', 'lwp-download', 'python', 'python3', 'perl', 'ruby', 'php', 'java', 'node', 'nodejs', 'powershell', 'pwsh']);

/** Prefixes that only run the command after them, with no everyday sense: `sudo id`, `nohup nc …`. */
const COMMAND_ONLY_PREFIXES = new Set(['sudo', 'nohup', 'strace', 'xargs', 'stdbuf', 'builtin']);

interface CommandWords {
  name: string;
  rest: string[];
  /** The prefix skipped before the name, such as `sudo` or `time`; empty when there was none. */
  prefix: string;
}

/** Finds the command a segment runs: its first word after prefixes and `NAME=value` assignments, without a directory. */
function commandWords(segment: string): CommandWords | undefined {
  const words = segment.trim().split(/\s+/).filter((word) => word.length > 0).slice(0, 16);
  let i = 0;
  let prefix = '';
  let prefixAt = -1;
  while (i < words.length - 1 && !SHELL_VARIABLES.has(words[i]) && (PREFIXES.has(words[i]) || /^[a-z_][a-z0-9_]*=/.test(words[i]) || /^\$[a-z_][a-z0-9_]{0,8}$/.test(words[i]) || (words[i].startsWith('-') && i > 0))) {
    if (PREFIXES.has(words[i])) {
      prefix = words[i];
      prefixAt = i;
    }
    i++;
  }

  // `env --version`: only options follow the prefix, so the prefix is the command.
  if (words[i]?.startsWith('-') && prefixAt >= 0) {
    i = prefixAt;
    prefix = '';
  }

  const word = words[i];
  if (!word) return undefined;
  if (SHELL_VARIABLES.has(word)) return { name: 'sh', rest: words.slice(i + 1), prefix };
  // sqlite3 also reads its dot commands with a space after the dot: `. shell`.
  if (word === '.' && words[i + 1]) return { name: `.${words[i + 1]}`, rest: words.slice(i + 2), prefix };
  let name = word.startsWith('/') || word.startsWith('./') ? word.slice(word.lastIndexOf('/') + 1) : word;
  // cmd.exe takes options glued to the command: `bcdboot/r`.
  const slash = name.indexOf('/');
  if (slash > 0 && /^\/[a-z]$/.test(name.slice(slash))) name = name.slice(0, slash);
  name = name.replace(/^[<>]+/, '');
  // Interpreters are installed under their version too: `python3.10`, `perl5.36`.
  const versioned = /^(python|perl|ruby|php|lua)\d+(?:\.\d+){0,2}$/.exec(name);
  if (versioned) name = versioned[1];
  return { name, rest: words.slice(i + 1), prefix };
}

/** Reports whether an argument names a script or batch file: `rc script.sh`, `source x.py`. */
function isScriptArgument(word: string): boolean {
  return /^[a-z0-9_.-]{1,63}\.(?:sh|bash|py|pl|rb|ps1|bat)$/.test(word);
}

/**
 * Reports whether a segment's first word can lead to a command: a command or prefix itself, or a
 * word that `commandWords` rewrites (a path, an assignment, a variable, a versioned interpreter).
 * Most segments of other attacks' payloads start with neither, and skip the word splitting.
 */
function mayStartCommand(text: string): boolean {
  let start = 0;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  let end = start;
  while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
  if (end === start) return false;
  const word = text.slice(start, end);
  return /[^a-z-]/.test(word) || PREFIXES.has(word) || isDistinctive(word) || AMBIGUOUS_COMMANDS.has(word);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d || code === 0x0b || code === 0x0c;
}

function commandIn(segment: Segment, inUserAgent: boolean, followed: boolean): string | undefined {
  if (!mayStartCommand(segment.text)) return undefined;
  const command = commandWords(segment.text);
  if (!command) return undefined;
  const { name, rest, prefix } = command;
  // `sleep(5)`, `ln(2)`: a name glued to a parenthesis is a call in SQL, a formula or code, which
  // a shell would reject. PowerShell takes `;curl('…')`, so a distinctive name after a separator counts.
  if (segment.called && rest.length === 0 && !(segment.separated && isDistinctive(name))) return undefined;
  if (inUserAgent && rest.length === 0) {
    // `code=ansible-console`: a command assigned to a shell variable, to run it through the variable.
    const assigned = /^[a-z_][a-z0-9_]{0,31}=([a-z0-9._-]{1,32})$/.exec(name);
    if (assigned && isDistinctive(assigned[1])) return assigned[1];
  }
  const distinctive = isDistinctive(name);
  if (!distinctive && !AMBIGUOUS_COMMANDS.has(name)) return undefined;
  if (segment.separated) return distinctive || rest.length === 0 || rest.some(isCommandArgument) ? name : undefined;
  // `alias x=env`: defining a shell alias.
  if (name === 'alias' && rest.some((word) => /^[a-z_][a-z0-9_-]{0,31}=/.test(word))) return name;
  if (inUserAgent) {
    // A user agent names a product and its version (`curl/8.5.0`). So one that is a bare command,
    // alone or behind a prefix that runs it, is a command.
    if (rest.length === 0 && !followed && !HTTP_CLIENTS.has(name) && (segment.text.trim() === name || (prefix !== '' && distinctive))) return name;
    return (distinctive && (rest.length > 0 || followed)) || rest.some(isCommandArgument) ? name : undefined;
  }
  // At the start of a value, a command needs an argument shape, or a separator after it (`whoami;`).
  // An everyday word needs an argument only an attack has: a system path, a redirection or a script.
  if (distinctive) {
    if (rest.some(isCommandArgument) || (followed && rest.length === 0)) return name;
    // Hyphenated names (`apt-get`, `aa-disable`) and a prefix that only runs commands are no prose.
    return (name.includes('-') || COMMAND_ONLY_PREFIXES.has(prefix)) && rest.length > 0 ? name : undefined;
  }
  return rest.some(isSystemArgument) || rest.some(isScriptArgument) ? name : undefined;
}

function isDistinctive(name: string): boolean {
  return COMMANDS.has(name) || (name.startsWith('ansible-') && name !== 'ansible-httpget') || name.startsWith('chef-');
}

/**
 * Finds a word that turns into a command once shell quoting inside it is removed: `'i'fconfig`,
 * `c\\at`, `w$@get`, `ti''me`. Quoting inside a command name has no use but evasion.
 */
function obfuscatedCommand(value: string): string | undefined {
  for (const word of value.split(/[\s;|&]+/).slice(0, 32)) {
    if (!/[a-z]['"\\`$][^\s]*[a-z]|^['"][a-z]{1,3}['"][a-z]|[a-z](?:``|\$\(\)|\$\{\})$/.test(word)) continue;
    // An unset variable glued to a word expands to nothing: `sh$xx` runs `sh`. `$$` expands to the
    // shell's process id, so `c$$at` runs no cat, but scanners send it to probe filters that drop `$`.
    const plain = deobfuscateShell(word).replace(/([a-z])\$[a-z_][a-z0-9_]{0,15}/g, '$1').replaceAll('$$', '').replace(/^[<>(]+/, '');
    const name = plain.startsWith('/') ? plain.slice(plain.lastIndexOf('/') + 1) : plain;
    if (name !== word && (COMMANDS.has(name) || AMBIGUOUS_COMMANDS.has(name) || PREFIXES.has(name))) return name;
  }
  return undefined;
}

/** Finds a line break followed by a mail protocol command: `\r\nRCPT TO:<…>`, `\r\na001 EXAMINE INBOX`. */
function mailCommand(value: string): string | undefined {
  const newline = value.indexOf('\n');
  if (newline < 0) return undefined;
  for (const line of value.split('\n').slice(1, 16)) {
    const words = line.trim().split(' ');
    const tagged = /^[a-z]\d{1,4}$/.test(words[0]);
    const verb = tagged ? words[1] : words[0];
    if (verb && (MAIL_VERBS.has(verb) || (tagged && IMAP_VERBS.has(verb)))) return verb;
  }
  return undefined;
}

/** Finds a value that is the path of a command: `bin/visudo`, `/usr/sbin/chef`. */
function commandPath(value: string): string | undefined {
  if (value.indexOf('bin/') < 0) return undefined;
  const match = /(?:^|\/)s?bin\/([a-z0-9._-]{1,32})$/.exec(value);
  if (!match) return undefined;
  const name = match[1];
  return COMMANDS.has(name) || AMBIGUOUS_COMMANDS.has(name) || name.startsWith('ansible') || name.startsWith('chef') ? name : undefined;
}

/** Shell syntax no other text has: command substitution, process substitution, arithmetic, function definitions, redirections. */
function shellSyntax(text: string, classes: number): string | undefined {
  // Each form needs a `$`, a backquote, `<` or `>`, or a brace; the regular expressions run only where those are.
  const dollar = (classes & DOLLAR) !== 0;
  if ((dollar && /\$\([a-z]{1,32}/.test(text)) || (text.indexOf('`') >= 0 && /`[a-z]{1,32}[^`]{0,64}`/.test(text))) return 'command substitution';
  const angle = (classes & ANGLE) !== 0;
  if (angle && (text.indexOf('<(') >= 0 || text.indexOf('>(') >= 0)) return 'process substitution';
  if (dollar && (/\$\[[^\]]{0,32}\]/.test(text) || text.indexOf('$((') >= 0)) return 'arithmetic expansion';
  if (dollar && /\$\{[a-z_]{1,16}(?:#|%|:-|:=|:\?|\/\/)/.test(text)) return 'parameter expansion';
  const brace = (classes & BRACE) !== 0;
  if (brace && /\(\)\s{0,4}\{/.test(text)) return 'shell function definition';
  if (brace && (/\{,[a-z$/]/.test(text) || /\{[0-9_./?*-]{0,32}[a-z][a-z0-9_./?*-]{0,32},[a-z0-9_./?*, -]{0,64}\}/.test(text))) return 'brace expansion';
  if (angle && (/(?:^|[\s;|&])(?:\d?>{1,2}|<{3})\s{0,4}\/(?:dev|tmp|etc|var)\//.test(text) || text.indexOf('2>&1') >= 0)) return 'redirection';
  if (angle && /^>\s{0,2}\/[a-z0-9_.-]{1,64}\/[a-z0-9_.]/.test(text)) return 'redirection';
  if (dollar && /\$\{ifs\}|\$ifs/.test(text)) return '$IFS';
  return undefined;
}

/** cmd.exe control flow: `for %x in (…) do …` and `if [not] exist|defined|errorlevel …`, `if a==b …`. */
function batchSyntax(text: string): string | undefined {
  const compact = text.replace(/\s+/g, ' ');
  const forAt = compact.indexOf('for ');
  if (forAt >= 0) {
    const rest = compact.slice(forAt, forAt + 400);
    const inAt = rest.indexOf(' in (');
    const inAtTight = inAt >= 0 ? inAt : rest.indexOf(' in(');
    if (inAtTight > 0 && rest.indexOf('%') > 0 && rest.indexOf('%') < inAtTight && /\)\s?do\b/.test(rest.slice(inAtTight))) return 'for loop';
  }
  const ifAt = compact.search(/(?:^|[\s&|;(])if(?: |\/i )/);
  if (ifAt >= 0) {
    const rest = compact.slice(ifAt, ifAt + 200).trim().replace(/^if ?(?:\/i )?/, '').replace(/^not /, '');
    if (/^(?:exist|defined|errorlevel|cmdextversion) /.test(rest)) return `if ${rest.split(' ')[0]}`;
    // Operands may be quoted: `if "a b" == "a b" echo same`.
    if (/^(?:"[^"]{0,40}"|\S{1,40}) ?(?:==|equ |neq |lss |leq |gtr |geq )\s?\S/.test(rest)) return 'if comparison';
  }
  return undefined;
}

function batchCommand(text: string): string | undefined {
  const batch = batchSyntax(text);
  return batch ? `batch ${batch}` : undefined;
}

function globbedPath(text: string): string | undefined {
  if (text.indexOf('?') < 0 && text.indexOf('*') < 0 && text.indexOf('[') < 0) return undefined;
  const words = text.split(/[\s;|&+]+/).slice(0, 32);
  for (const word of words) {
    if (!word.startsWith('/') || word.length > 64 || !/[?*[]/.test(word)) continue;
    const target = GLOB_TARGETS.find((candidate) => globMatches(word, candidate));
    if (target) return `glob ${word} for ${target}`;
  }
  return undefined;
}

/** Characters without which neither shell syntax nor in-word quoting can appear. */
function hasShellCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '$' || char === '`' || char === '<' || char === '>' || char === '(' || char === '{' || char === "'" || char === '"' || char === '\\' || char === '&') return true;
  }
  return false;
}

/**
 * Finds a command in the value of a parameter that web shells take commands in (`cmd`, `exec`):
 * the first word of any of its commands, so `cmd=;id` and a second line `at 2:00 …` count.
 */
function parameterCommand(value: string): string | undefined {
  const segments = splitCommands(deobfuscateShell(value));
  for (const segment of segments) {
    const command = commandWords(segment.text)?.name;
    if (!command || !(COMMANDS.has(command) || AMBIGUOUS_COMMANDS.has(command))) continue;
    // Exchange ActiveSync clients send `Cmd=Ping` as their push request; ping without a host does nothing.
    if (command === 'ping' && segments.length === 1 && segment.text.trim() === command) continue;
    return command;
  }
  return undefined;
}

/**
 * Checks one decoded, lower-cased value; returns what was found, or undefined. `parameter` is the
 * query parameter's name, if the value is one; `classes` are the value's character classes.
 */
export function detectCommandInjection(value: string, inUserAgent = false, parameter = '', classes = charClasses(value)): string | undefined {
  if (value.length < 2) return undefined;
  if (COMMAND_PARAMETERS.has(parameter)) {
    const found = parameterCommand(value);
    if (found) return `command ${found} in parameter ${parameter}`;
  }
  // Words, digits and spaces alone have no separator, no shell syntax and no argument that only
  // a command takes. Of the checks below, only cmd.exe's `if` can match them.
  if (!inUserAgent && (classes & ~(LETTER | DIGIT | SPACE)) === 0) return value.indexOf('if ') >= 0 ? batchCommand(value) : undefined;
  // `~+` and `~-` are the shell's current and previous directory; they mean nothing else alone.
  if (value === '~+' || value === '~-') return 'tilde expansion';
  const found = commandInValue(value, inUserAgent);
  if (found) return found;
  // Escaped line breaks (`\n` as two characters) end a command where the value is unescaped before use.
  if (value.indexOf('\\n') >= 0 || value.indexOf('\\r') >= 0) {
    const unescaped = commandInValue(value.replace(/\\[nr]/g, '\n'), inUserAgent);
    if (unescaped) return unescaped;
  }
  // `;cat+/etc/passwd`: a `+` meant as a space by a form encoding applied twice.
  if ((classes & PLUS) !== 0 && hasShellCharacters(value)) return commandInValue(value.replaceAll('+', ' '), inUserAgent);
  return undefined;
}

function commandInValue(value: string, inUserAgent: boolean): string | undefined {
  const special = hasShellCharacters(value);
  const syntax = special ? shellSyntax(value, charClasses(value)) : undefined;
  if (syntax) return syntax;
  const obfuscated = special ? obfuscatedCommand(value) : undefined;
  if (obfuscated) return `obfuscated command ${obfuscated}`;
  const text = deobfuscateShell(value);
  if (!inUserAgent && text.indexOf('sleep') >= 0 && SLEEP_PROBE.test(text)) return 'chained command sleep';
  const segments = splitCommands(text);
  for (const segment of segments) {
    const command = commandIn(segment, inUserAgent, segments.length > 1);
    if (command) return `${segment.separated ? 'chained ' : ''}command ${command}`;
  }
  const phrase = WINDOWS_PHRASE_SET.first(text);
  if (phrase) return `windows ${phrase.trim()}`;
  const batch = text.indexOf('for ') >= 0 || text.indexOf('if ') >= 0 || text.indexOf('if/') >= 0 ? batchCommand(value) ?? batchCommand(text) : undefined;
  if (batch) return batch;
  const mail = mailCommand(value);
  if (mail) return `mail command ${mail} after a line break`;
  const path = commandPath(text);
  if (path) return `command path ${path}`;
  return globbedPath(text);
}

const slot = repeatSlot();

const check: ValueCheck = (value, location, classes) => detectCommandInjection(value, location === 'user_agent.original', location.startsWith('url.query:') ? location.slice(10) : '', classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

export const commandInjection: Detector = {
  name: 'cmdi',
  description: 'OS command injection in parameters, cookies, headers and the user agent: chained commands, shell and cmd.exe syntax, globbed paths.',
  detect: (view: EventView) => inspect(view.inputs),
};
