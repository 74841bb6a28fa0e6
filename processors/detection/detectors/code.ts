import { inspectValues, repeatSlot, type Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { NeedleSet } from './needles.js';

/*
 * Code injection in the languages web back ends run: PHP (functions that run commands or code,
 * superglobals, stream wrappers, serialized objects), Java (runtime classes, deserialization
 * gadgets, also base64-encoded), Node.js (child_process, prototype pollution), Python, and LDAP
 * filter injection. A call must be a call: the name must not continue a longer word, so
 * `cheval($x)` is not `eval(`.
 */

const PHP_FUNCTIONS = [
  'system', 'exec', 'shell_exec', 'passthru', 'popen', 'proc_open', 'pcntl_exec', 'eval', 'assert', 'create_function', 'call_user_func',
  'call_user_func_array', 'preg_replace', 'base64_decode', 'gzinflate', 'gzuncompress', 'str_rot13', 'file_get_contents',
  'file_put_contents', 'fopen', 'fwrite', 'fputs', 'readfile', 'include', 'include_once', 'require', 'require_once', 'phpinfo',
  'unserialize', 'move_uploaded_file', 'highlight_file', 'show_source', 'php_uname', 'getenv', 'putenv', 'ini_set', 'dl',
  'array_map', 'usort', 'uasort', 'array_filter', 'array_walk', 'register_shutdown_function', 'posix_getpwuid', 'escapeshellcmd',
  'unpack', 'pack', 'symlink', 'chgrp', 'filegroup', 'fileowner', 'mb_ereg_replace', 'iconv', 'extract', 'parse_str', 'var_dump',
];
const PHP_MARKERS = [
  '$_get[', '$_post[', '$_server[', '$_request[', '$_cookie[', '$_files[', '$_env[', '$_session[', '$globals[',
  '$_get', '$_post', '$_server', '$_request', 'php://input', 'php://filter', 'php://fd', 'php://memory', 'expect://', 'phar://', 'zip://',
  'glob://', 'compress.zlib://', 'allow_url_include', 'auto_prepend_file', 'auto_append_file', 'disable_functions',
  'open_basedir', 'safe_mode', 'thinkphp', '\\think\\', 'invokefunction',
];
/** Java classes and packages that only an exploit names in a request. */
const JAVA_MARKERS = [
  'java.lang.runtime', 'java.lang.processbuilder', 'java.lang.system', 'java.lang.class', 'java.lang.reflect', 'java.lang.thread',
  'java.io.', 'java.net.url', 'java.net.socket', 'java.nio.file', 'java.rmi', 'java.beans.xmldecoder', 'java.util.scanner',
  'javax.script', 'javax.naming', 'javax.management', 'com.opensymphony.xwork2', 'org.apache.commons.collections', 'org.apache.commons.io',
  'org.apache.commons.beanutils', 'org.apache.struts', 'org.apache.tomcat', 'org.apache.catalina', 'org.springframework.context',
  'org.codehaus.groovy', 'groovy.lang', 'bsh.interpreter', 'sun.misc.unsafe', 'com.sun.rowset', 'com.sun.org.apache', 'jdk.nashorn',
  'ognl.ognlcontext', 'java.runtime', 'runtime.getruntime', 'getruntime()', 'processbuilder', 'class.forname(', '.newinstance(',
  'scriptenginemanager', 'java.lang', 'xmldecoder', 'objectinputstream', 'uploadfileaction',
];
/** Java deserialization gadget classes (from the published ysoserial chains), matched plain and base64-encoded. */
const JAVA_GADGETS = [
  'invokertransformer', 'instantiatetransformer', 'chainedtransformer', 'constanttransformer', 'clonetransformer', 'instantiatefactory',
  'prototypeclonefactory', 'prototypeserializationfactory', 'templatesimpl', 'annotationinvocationhandler', 'badattributevalueexpexception',
  'jdbcrowsetimpl', 'lazymap', 'transformedmap', 'beancomparator', 'forclosure', 'whileclosure', 'transformingcomparator',
  'defaultedmap', 'serializablefactory', 'comparatorchain',
];
const NODE_MARKERS = [
  'child_process', 'process.mainmodule', 'process.binding', 'global.process', 'require(\'child', 'require("child', '.constructor.constructor',
  'this.constructor', 'process.env', 'process.exit', 'process.kill', 'fs.readfilesync', 'module.constructor', '__proto__', 'constructor[prototype]',
  'constructor.prototype', '[constructor][prototype]', 'object.prototype',
];
const PYTHON_MARKERS = ['__import__(', 'os.system(', 'os.popen(', 'subprocess.', '__builtins__', '__globals__', '__subclasses__()', 'pickle.loads', 'eval(compile('];

/** The lower-cased base64 forms of each gadget name at the three byte alignments, without the unstable edge characters. */
const ENCODED_GADGETS: { name: string; needle: string }[] = JAVA_GADGETS.flatMap((name) => [0, 1, 2].map((offset) => {
  const encoded = Buffer.from(`${'a'.repeat(offset)}${name}`, 'latin1').toString('base64').replace(/=+$/, '');
  // The first characters mix the padding bytes with the name; how many depends on the alignment.
  let skip = 0;
  if (offset === 1) skip = 2;
  if (offset === 2) skip = 3;
  return { name, needle: encoded.slice(skip, encoded.length - 2).toLowerCase() };
}));

const PHP_FUNCTION_SET = new NeedleSet(PHP_FUNCTIONS);

/** Every marker of every language in one set, scanned once per value; `label` describes each needle. */
const MARKERS: { needle: string; label: string; rank: number }[] = [
  ...PHP_MARKERS.map((needle) => ({ needle, label: `php ${needle}`, rank: 0 })),
  ...JAVA_MARKERS.map((needle) => ({ needle, label: `java ${needle.replace(/[.(]+$/, '')}`, rank: 1 })),
  ...JAVA_GADGETS.map((needle) => ({ needle, label: `java gadget ${needle}`, rank: 2 })),
  ...ENCODED_GADGETS.map((gadget) => ({ needle: gadget.needle, label: `java gadget ${gadget.name} in base64`, rank: 2 })),
  { needle: 'ro0ab', label: 'java serialized object', rank: 2 },
  { needle: 'aced0005', label: 'java serialized object', rank: 2 },
  ...NODE_MARKERS.map((needle) => ({ needle, label: `node ${needle}`, rank: 3 })),
  ...PYTHON_MARKERS.map((needle) => ({ needle, label: `python ${needle}`, rank: 4 })),
];
const MARKER_SET = new NeedleSet(MARKERS.map((marker) => marker.needle));

/** Returns the marker found with the lowest rank (PHP before Java before Node.js before Python), or undefined. */
function findMarker(value: string): string | undefined {
  let best: { label: string; rank: number } | undefined;
  const hits = MARKER_SET.hits(value);
  for (let i = 0; i < hits.length; i++) {
    const marker = MARKERS[hits[i].needle];
    if (!best || marker.rank < best.rank) best = marker;
    if (best.rank === 0) break;
  }
  return best?.label;
}

function isWordCharacter(char: string | undefined): boolean {
  return char !== undefined && /[a-z0-9_$\\.]/.test(char);
}

/**
 * Finds a call `name(arg…` where `name` is not part of a longer word. Between the name and `(`
 * only what evasion puts there is allowed (a tab, a line break, `)` as in `(system)(ls)`), not a
 * plain space, so prose such as "paper pack (8.5x11)" is no call.
 */
function findCall(value: string): string | undefined {
  const hits = PHP_FUNCTION_SET.hits(value);
  for (let i = 0; i < hits.length; i++) {
    const { needle, start } = hits[i];
    const name = PHP_FUNCTIONS[needle];
    if (isWordCharacter(value[start - 1])) continue;
    let j = start + name.length;
    while (j < value.length && j - start - name.length < 16 && (value[j] === '\t' || value[j] === '\n' || value[j] === '\r' || value[j] === ')')) j++;
    if (value[j] === '`' && name === 'system') return name;
    if (value[j] === '(') {
      const argument = value.slice(j + 1, j + 32).trimStart()[0];
      if (argument !== undefined && argument !== ')') return name;
    }
  }
  return undefined;
}

/** Replaces `/*…*‌/` and `//…` line comments, which PHP and JavaScript ignore between a name and its call, with a tab. */
function withoutComments(value: string): string {
  if (value.indexOf('/*') < 0 && value.indexOf('//') < 0) return value;
  return value.replace(/\/\*[^*]{0,256}\*\//g, '\t').replace(/\/\/[^\n]{0,256}\n/g, '\t');
}

/** PHP calls, variable functions, serialized objects and open tags with code. */
function findPhp(value: string): string | undefined {
  if (value.indexOf('(') >= 0) {
    const call = findCall(withoutComments(value));
    if (call) return `php call ${call}()`;
  }
  if (value.indexOf('$') >= 0 && (/\$[a-z_][a-z0-9_]{0,31}\(/.test(value) || /\$\{[^}]{1,32}\}\(/.test(value) || /\$[a-z_]{1,32}\[[^\]]{0,32}\]\(/.test(value))) return 'php variable function call';
  if (/(?:^|[;{])o:\d{1,4}:"[a-z_\\]{1,64}":\d{1,4}:\{/.test(value)) return 'php serialized object';
  if (/<\?(?:php)?\s+[a-z_]{2,32}\s{0,2}[($'"]/.test(value)) return 'php code';
  return undefined;
}

/** LDAP filter injection: a value that closes the filter and opens another (`*)(uid=*))(|(uid=*`). */
function findLdap(value: string): string | undefined {
  if (value.indexOf(')(') < 0 && value.indexOf(') (') < 0) return undefined;
  return /\)\s?\(\s?[|&!]|\*\)\s?\(|\)\s?\([a-z]{1,32}=/.test(value) ? 'ldap filter injection' : undefined;
}

/** Checks one decoded, lower-cased value; returns what was found, or undefined. */
export function detectCodeInjection(value: string): string | undefined {
  if (value.length < 4) return undefined;
  return findMarker(value) ?? findPhp(value) ?? findLdap(value);
}

const slot = repeatSlot();

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, detectCodeInjection, slot);
}

export const codeInjection: Detector = {
  name: 'code_injection',
  description: 'PHP, Java, Node.js and Python code injection, deserialization gadgets, prototype pollution and LDAP filter injection.',
  detect: (view: EventView) => inspect(view.inputs) ?? inspect(view.pathAsInput),
};
