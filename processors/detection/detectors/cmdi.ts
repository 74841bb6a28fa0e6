import { AgentCache, inspectValues, type Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { globMatches } from './glob.js';

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
/** Mail protocol verbs (SMTP, POP3, IMAP) that a line break lets an attacker append to a mail command. */
const MAIL_VERBS = new Set(['ehlo', 'helo', 'mail', 'rcpt', 'data', 'quit', 'rset', 'vrfy', 'expn', 'help', 'auth', 'starttls', 'retr', 'list', 'top', 'apop', 'user', 'pass', 'stat', 'dele', 'uidl', 'examine', 'select', 'login', 'fetch', 'capability', 'logout']);
/** Where globbed paths (`/???/??t`, `/et*\/p*wd`) are checked to lead. */
const GLOB_TARGETS = [
  '/etc', '/etc/passwd', '/etc/shadow', '/etc/hosts', '/etc/group', '/bin/cat', '/bin/sh', '/bin/bash', '/bin/nc', '/bin/ls', '/bin/busybox',
  '/usr/bin/id', '/usr/bin/wget', '/usr/bin/curl', '/usr/bin/whoami', '/usr/bin/python', '/usr/bin/python3', '/usr/bin/perl',
  '/usr/bin/uname', '/usr/bin/bash', '/usr/bin/nc', '/usr/bin/cat', '/bin/id', '/bin/uname',
];
/** PowerShell and cmd.exe phrases no other text has. */
const WINDOWS_PHRASES = ['win32_process', 'invoke-wmimethod', 'get-wmiobject', 'cmd /c', 'cmd.exe /c', 'cmd /k', 'powershell -', 'powershell.exe -', '-encodedcommand', '-inputformat none', 'downloadstring(', 'downloadfile(', 'net.webclient', 'certutil -urlcache', 'bitsadmin /transfer', '%comspec%', 'regsvr32 /s', 'start-sleep -s'];
const MAX_SEGMENTS = 64;
/** Parameter names web shells and vulnerable tools take commands in; any command there counts. */
const COMMAND_PARAMETERS = new Set(['cmd', 'command', 'exec', 'execute', 'shell', 'run', 'system', 'cmdline', 'c']);

/**
 * Undoes shell obfuscation in a copy of the value: quotes and backslashes inside words, empty
 * expansions (`$@`, `${x}`, `$()`), `$IFS` as a space, and brace lists (`{cat,/etc/passwd}`).
 */
export function deobfuscateShell(value: string): string {
  let text = value;
  if (text.indexOf('$') >= 0) {
    text = text.replace(/\$\{ifs\}|\$ifs(?:\$9)?/g, ' ');
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
}

const SEPARATORS = new Set([';', '|', '&', '\n', '\r', '`', '(', ')', '{', '}']);

function splitCommands(text: string): Segment[] {
  const segments: Segment[] = [];
  let start = 0;
  let separated = false;
  for (let i = 0; i <= text.length && segments.length < MAX_SEGMENTS; i++) {
    const char = text[i];
    if (i < text.length && !SEPARATORS.has(char)) continue;
    if (i > start) segments.push({ text: text.slice(start, i), separated });
    separated = true;
    start = i + 1;
  }
  return segments;
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

/** Finds the command a segment runs: its first word after prefixes and `NAME=value` assignments, without a directory. */
function commandWords(segment: string): { name: string; rest: string[] } | undefined {
  const words = segment.trim().split(/\s+/).filter((word) => word.length > 0).slice(0, 16);
  let i = 0;
  while (i < words.length - 1 && (PREFIXES.has(words[i]) || /^[a-z_][a-z0-9_]*=/.test(words[i]) || /^\$[a-z_][a-z0-9_]{0,8}$/.test(words[i]) || (words[i].startsWith('-') && i > 0))) i++;
  const word = words[i];
  if (!word) return undefined;
  if (SHELL_VARIABLES.has(word)) return { name: 'sh', rest: words.slice(i + 1) };
  let name = word.startsWith('/') || word.startsWith('./') ? word.slice(word.lastIndexOf('/') + 1) : word;
  // cmd.exe takes options glued to the command: `bcdboot/r`.
  const slash = name.indexOf('/');
  if (slash > 0 && /^\/[a-z]$/.test(name.slice(slash))) name = name.slice(0, slash);
  return { name: name.replace(/^[<>]+/, ''), rest: words.slice(i + 1) };
}

function commandIn(segment: Segment, inUserAgent: boolean, followed: boolean): string | undefined {
  const command = commandWords(segment.text);
  if (!command) return undefined;
  const { name, rest } = command;
  const distinctive = COMMANDS.has(name) || (name.startsWith('ansible-') && name !== 'ansible-httpget') || name.startsWith('chef-');
  if (!distinctive && !AMBIGUOUS_COMMANDS.has(name)) return undefined;
  if (segment.separated) return distinctive || rest.length === 0 || rest.some(isCommandArgument) ? name : undefined;
  // A user agent names a product and its version; one that starts with a command is a command.
  if (inUserAgent) return (distinctive && (rest.length > 0 || followed)) || rest.some(isCommandArgument) ? name : undefined;
  // At the start of a value, a command needs an argument shape, or a separator after it (`whoami;`).
  // An everyday word needs an argument only an attack has: a system path or a redirection.
  if (distinctive) return rest.some(isCommandArgument) || (followed && rest.length === 0) ? name : undefined;
  return rest.some(isSystemArgument) ? name : undefined;
}

/**
 * Finds a word that turns into a command once shell quoting inside it is removed: `'i'fconfig`,
 * `c\\at`, `w$@get`, `ti''me`. Quoting inside a command name has no use but evasion.
 */
function obfuscatedCommand(value: string): string | undefined {
  for (const word of value.split(/[\s;|&]+/).slice(0, 32)) {
    if (!/[a-z]['"\\`$][^\s]*[a-z]|^['"][a-z]{1,3}['"][a-z]/.test(word)) continue;
    const plain = deobfuscateShell(word).replace(/^[<>(]+/, '');
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
    const verb = /^[a-z]\d{1,4}$/.test(words[0]) ? words[1] : words[0];
    if (verb && MAIL_VERBS.has(verb)) return verb;
  }
  return undefined;
}

/** Finds a value that is the path of a command: `bin/visudo`, `/usr/sbin/chef`. */
function commandPath(value: string): string | undefined {
  const match = /(?:^|\/)s?bin\/([a-z0-9._-]{1,32})$/.exec(value);
  if (!match) return undefined;
  const name = match[1];
  return COMMANDS.has(name) || AMBIGUOUS_COMMANDS.has(name) || name.startsWith('ansible') || name.startsWith('chef') ? name : undefined;
}

/** Shell syntax no other text has: command substitution, process substitution, arithmetic, function definitions, redirections. */
function shellSyntax(text: string): string | undefined {
  if (/\$\([a-z]{1,32}/.test(text) || /`[a-z]{1,32}[^`]{0,64}`/.test(text)) return 'command substitution';
  if (text.indexOf('<(') >= 0 || text.indexOf('>(') >= 0) return 'process substitution';
  if (/\$\[[^\]]{0,32}\]/.test(text) || text.indexOf('$((') >= 0) return 'arithmetic expansion';
  if (/\$\{[a-z_]{1,16}(?:#|%|:-|:=|:\?|\/\/)/.test(text)) return 'parameter expansion';
  if (/\(\)\s{0,4}\{/.test(text)) return 'shell function definition';
  if (/\{,[a-z$/]/.test(text) || /\{[0-9_./?*-]{0,32}[a-z][a-z0-9_./?*-]{0,32},[a-z0-9_./?*, -]{0,64}\}/.test(text)) return 'brace expansion';
  if (/(?:^|[\s;|&])(?:\d?>{1,2}|<{3})\s{0,4}\/(?:dev|tmp|etc|var)\//.test(text) || text.indexOf('2>&1') >= 0) return 'redirection';
  if (/^>\s{0,2}\/[a-z0-9_.-]{1,64}\/[a-z0-9_.]/.test(text)) return 'redirection';
  if (/\$\{ifs\}|\$ifs/.test(text)) return '$IFS';
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
  const ifAt = compact.search(/(?:^|[\s&|;(])if /);
  if (ifAt >= 0) {
    const rest = compact.slice(ifAt, ifAt + 200).trim().slice(3).replace(/^\/i /, '').replace(/^not /, '');
    if (/^(?:exist|defined|errorlevel|cmdextversion) /.test(rest)) return `if ${rest.split(' ')[0]}`;
    if (/^\S{1,40} ?(?:==|equ |neq |lss |leq |gtr |geq )\s?\S/.test(rest)) return 'if comparison';
  }
  return undefined;
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

/** Checks one decoded, lower-cased value; returns what was found, or undefined. */
export function detectCommandInjection(value: string, inUserAgent = false, parameter = ''): string | undefined {
  if (value.length < 2) return undefined;
  if (COMMAND_PARAMETERS.has(parameter)) {
    const command = commandWords(deobfuscateShell(value))?.name;
    if (command && (COMMANDS.has(command) || AMBIGUOUS_COMMANDS.has(command))) return `command ${command} in parameter ${parameter}`;
  }
  const special = hasShellCharacters(value);
  const syntax = special ? shellSyntax(value) : undefined;
  if (syntax) return syntax;
  const obfuscated = special ? obfuscatedCommand(value) : undefined;
  if (obfuscated) return `obfuscated command ${obfuscated}`;
  const text = deobfuscateShell(value);
  const segments = splitCommands(text);
  for (const segment of segments) {
    const command = commandIn(segment, inUserAgent, segments.length > 1);
    if (command) return `${segment.separated ? 'chained ' : ''}command ${command}`;
  }
  for (const phrase of WINDOWS_PHRASES) if (text.indexOf(phrase) >= 0) return `windows ${phrase.trim()}`;
  const batch = text.indexOf('for ') >= 0 || text.indexOf('if ') >= 0 || text.indexOf('if/') >= 0 ? batchSyntax(text) : undefined;
  if (batch) return `batch ${batch}`;
  const mail = mailCommand(value);
  if (mail) return `mail command ${mail} after a line break`;
  const path = commandPath(text);
  if (path) return `command path ${path}`;
  return globbedPath(text);
}

const agents = new AgentCache();

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, (value, location) => detectCommandInjection(value, location === 'user_agent.original', location.startsWith('url.query:') ? location.slice(10) : ''), agents);
}

export const commandInjection: Detector = {
  name: 'cmdi',
  description: 'OS command injection in parameters, cookies, headers and the user agent: chained commands, shell and cmd.exe syntax, globbed paths.',
  detect: (view: EventView) => inspect(view.inputs),
};
