import {
  isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type Node as YamlNode, type YAMLError,
} from 'yaml';
import type { ErrorCode } from '../errors.js';

/**
 * One value of a config file after `${env:…}` expansion, with where it came from. Validation
 * works on these nodes rather than on plain objects so that every error can name the YAML path
 * and the line, and so that a string field can take the scalar's text as written.
 */
export type ConfigNode = MapNode | SeqNode | ScalarNode;

interface NodeBase {
  /** The YAML path, such as `receivers.otlp.protocols.http.endpoint` or `service.pipelines.logs.receivers[1]`. */
  path: string;
  /** 1-based line of the value in `file`; 0 for values that did not come from a file. */
  line: number;
  file: string;
}

export interface MapNode extends NodeBase {
  kind: 'map';
  entries: Map<string, ConfigNode>;
  /** The line of each key, which is where an unknown-key error points. */
  keyLines: Map<string, number>;
}

export interface SeqNode extends NodeBase {
  kind: 'seq';
  items: ConfigNode[];
}

export interface ScalarNode extends NodeBase {
  kind: 'scalar';
  /** The value as YAML types it after expansion: `0123` is the number 123 here. */
  value: string | number | boolean | null;
  /** The scalar's text after expansion: `0123` stays `"0123"`. String fields read this. */
  text: string;
  quoted: boolean;
  /** Set when `${env:…}` expansion failed; the error is reported once and type checks stay quiet. */
  envError?: boolean;
}

export interface ConfigIssue {
  code: ErrorCode;
  path: string;
  file: string;
  line: number;
  message: string;
}

/**
 * Formats an issue the way every config error reads: `path: message (file:line)`. An issue
 * without a path, such as a YAML syntax error, reads `message (file:line)`.
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? ` (${issue.file}:${issue.line})` : issue.file ? ` (${issue.file})` : '';
  return `${issue.path ? `${issue.path}: ` : ''}${issue.message}${where}`;
}

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

const ENV_REFERENCE = /\$\$|\$\{([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands `${env:NAME}`, `${env:NAME:-default}` and the short form `${NAME}` in one scalar.
 * The default applies only when the variable is unset, not when it is empty. `$$` is a literal `$`.
 * Returns the expanded text, or an error message.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): { text: string } | { error: string } {
  let error: string | undefined;
  const expanded = text.replace(ENV_REFERENCE, (match, body: string | undefined) => {
    if (match === '$$') return '$';
    const reference = (body ?? '').startsWith('env:') ? (body ?? '').slice(4) : body ?? '';
    const separator = reference.indexOf(':-');
    const name = separator >= 0 ? reference.slice(0, separator) : reference;
    if (!ENV_NAME.test(name)) {
      error ??= `invalid environment reference "${match}"; expected \${env:NAME} or \${env:NAME:-default}`;
      return match;
    }
    const value = env[name];
    if (value !== undefined) return value;
    if (separator >= 0) return reference.slice(separator + 2);
    error ??= `environment variable ${name} is not set and "${match}" has no default; set it or write \${env:${name}:-default}`;
    return match;
  });
  return error === undefined ? { text: expanded } : { error };
}

/** Types the text of a plain scalar the way YAML 1.2's core schema does. */
function resolvePlainScalar(text: string): string | number | boolean | null {
  const document = parseDocument(text);
  const contents = document.contents;
  if (isScalar(contents)) {
    const value = contents.value;
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  }
  return text;
}

export interface ParsedYaml {
  root: ConfigNode | undefined;
  issues: ConfigIssue[];
}

/**
 * Parses YAML text into config nodes, expanding environment references in every scalar unless
 * `env` is null (rule files keep `${…}` as text, because attack payloads contain it).
 */
export function parseConfigYaml(source: string, file: string, env: NodeJS.ProcessEnv | null = process.env): ParsedYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const issues = yamlErrorIssues(document, lineCounter, source, file);
  if (issues.length > 0) return { root: undefined, issues };

  const lineOf = (node: YamlNode | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 0);

  const convert = (node: unknown, path: string): ConfigNode => {
    const line = lineOf(node as YamlNode);
    if (isMap(node)) {
      const entries = new Map<string, ConfigNode>();
      const keyLines = new Map<string, number>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyLine = lineOf(keyNode) || line;
        const valuePath = childPath(path, key);
        keyLines.set(key, keyLine);
        entries.set(key, pair.value === null || pair.value === undefined
          ? { kind: 'scalar', path: valuePath, line: keyLine, file, value: null, text: '', quoted: false }
          : convert(pair.value, valuePath));
      }
      return { kind: 'map', path, line, file, entries, keyLines };
    }
    if (isSeq(node)) {
      return { kind: 'seq', path, line, file, items: node.items.map((item, index) => convert(item, childPath(path, index))) };
    }
    if (isScalar(node)) return convertScalar(node, path, line);
    return { kind: 'scalar', path, line, file, value: null, text: '', quoted: false };
  };

  const convertScalar = (node: Scalar, path: string, line: number): ScalarNode => {
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE
      || node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
    const raw = quoted ? String(node.value) : (node.source ?? String(node.value));
    const rawValue = node.value;
    if (env === null || !raw.includes('$')) {
      const value = rawValue === null || ['string', 'number', 'boolean'].includes(typeof rawValue) ? rawValue as ScalarNode['value'] : raw;
      return { kind: 'scalar', path, line, file, value, text: raw, quoted };
    }
    const expanded = expandEnv(raw, env);
    if ('error' in expanded) {
      issues.push({ code: 'WP_ERR_CONFIG_ENV', path, file, line, message: expanded.error });
      return { kind: 'scalar', path, line, file, value: raw, text: raw, quoted, envError: true };
    }
    const value = quoted ? expanded.text : resolvePlainScalar(expanded.text);
    return { kind: 'scalar', path, line, file, value, text: expanded.text, quoted };
  };

  const contents = document.contents;
  if (contents === null || contents === undefined) return { root: undefined, issues };
  return { root: convert(contents, ''), issues };
}

/**
 * Converts the syntax errors of a parsed YAML document into issues that name the file and line.
 * The document must have been parsed with `lineCounter` and `prettyErrors`.
 */
export function yamlErrorIssues(document: Document, lineCounter: LineCounter, source: string, file: string): ConfigIssue[] {
  const claimed = new Set<YamlNode>();
  return document.errors.map((error) => {
    const stop = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
    // The library appends the position and a code frame to the message, and the issue states the position itself.
    const reason = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    const unclosed = unclosedNodeAt(document, source, error, claimed);
    if (!unclosed) return { code: 'WP_ERR_CONFIG_READ', path: '', file, line: stop.line, message: `invalid YAML: ${reason} at line ${stop.line}, column ${stop.col}` };
    const start = lineCounter.linePos(unclosed.node.range?.[0] ?? error.pos[0]);
    return {
      code: 'WP_ERR_CONFIG_READ', path: '', file, line: start.line,
      message: `invalid YAML: ${reason}; the ${unclosed.kind} starts at line ${start.line}, column ${start.col}, and the parser stopped at line ${stop.line}, column ${stop.col}`,
    };
  });
}

/**
 * Finds the unclosed flow collection or quoted scalar that an error is about. The library reports
 * the error where it gave up, often a line after the `{`, `[` or quote, but the node it built
 * keeps its start offset. Nested unclosed nodes end at the same offset and raise one error each,
 * innermost first, so each error takes the innermost node that no earlier error took.
 */
function unclosedNodeAt(document: Document, source: string, error: YAMLError, claimed: Set<YamlNode>): { node: YamlNode; kind: string } | undefined {
  if (error.code !== 'MISSING_CHAR' && error.code !== 'BAD_INDENT') return undefined;
  let found: { node: YamlNode; kind: string } | undefined;
  visit(document, (_key, node) => {
    const range = (node as YamlNode).range;
    if (!range || range[1] !== error.pos[0] || claimed.has(node as YamlNode)) return;
    const kind = unclosedKind(node, source, range);
    if (kind && (!found || range[0] > (found.node.range?.[0] ?? 0))) found = { node: node as YamlNode, kind };
  });
  if (found) claimed.add(found.node);
  return found;
}

/** Names a node that opens with a bracket or quote but whose text does not end with the closing one. */
function unclosedKind(node: unknown, source: string, range: [number, number, number]): string | undefined {
  const last = source[range[1] - 1];
  if (isCollection(node) && node.flow) {
    if (isMap(node)) return last === '}' ? undefined : 'flow map';
    return last === ']' ? undefined : 'flow sequence';
  }
  if (isScalar(node) && node.type === Scalar.QUOTE_DOUBLE) return last === '"' ? undefined : 'double-quoted string';
  if (isScalar(node) && node.type === Scalar.QUOTE_SINGLE) return last === "'" ? undefined : 'single-quoted string';
  return undefined;
}

/** Builds config nodes from a plain object, for configs made in code (tests, `replay`). */
export function nodeFromValue(value: unknown, path = '', file = '<inline>'): ConfigNode {
  if (Array.isArray(value)) {
    return { kind: 'seq', path, line: 0, file, items: value.map((item, index) => nodeFromValue(item, childPath(path, index), file)) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = new Map<string, ConfigNode>();
    const keyLines = new Map<string, number>();
    for (const [key, item] of Object.entries(value)) {
      entries.set(key, nodeFromValue(item, childPath(path, key), file));
      keyLines.set(key, 0);
    }
    return { kind: 'map', path, line: 0, file, entries, keyLines };
  }
  const scalar = value === undefined ? null : value as ScalarNode['value'];
  return { kind: 'scalar', path, line: 0, file, value: scalar, text: scalar === null ? '' : String(scalar), quoted: typeof scalar === 'string' };
}
