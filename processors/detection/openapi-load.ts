import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { formatIssue, yamlErrorIssues, type ConfigIssue } from '../../core/config/node.js';
import type { ErrorCode } from '../../core/errors.js';
import { METHODS, type ApiOperation, type ApiSpecDocument } from './openapi.js';

/*
 * Reads an OpenAPI 3 document and checks the parts that shadow and zombie endpoint detection
 * relies on: the version, `paths`, the path items and their operations. A structural fault
 * would otherwise leave routes out, and every request on them would count as undocumented.
 * Local `$ref`s (`#/paths/~1pets`) on path items and operations are resolved. References to
 * other files or URLs are rejected and never fetched.
 */

/** References followed from one `$ref` before the chain is rejected as too long. */
const MAX_REF_CHAIN = 32;

/** A key or array index on the way from the document root to a value. */
type PathSegment = string | number;

/** An invalid OpenAPI document, with every problem found and where it is. */
export class ApiSpecError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid OpenAPI document:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
    this.name = 'ApiSpecError';
  }
}

/** Reads an OpenAPI 3 document from YAML or JSON. Throws ApiSpecError, which names the file and lines. */
export function loadApiSpec(file: string): ApiSpecDocument {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ApiSpecError([{ code: 'WP_ERR_CONFIG_READ', path: '', file, line: 0, message: `cannot read the OpenAPI document: ${(error as Error).message}` }]);
  }
  const lineCounter = new LineCounter();
  // `merge` reads YAML 1.1 merge keys (`<<: *common`), which OpenAPI documents use to share operations.
  const document = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: true, merge: true });
  const syntax = yamlErrorIssues(document, lineCounter, source, file);
  if (syntax.length > 0) throw new ApiSpecError(syntax);
  let value: unknown;
  try {
    // toJS (yaml 2.x) expands aliases and throws past its maxAliasCount limit (default 100), so a "billion laughs" file is rejected here.
    value = document.toJS();
  } catch (error) {
    throw new ApiSpecError([{ code: 'WP_ERR_CONFIG_READ', path: '', file, line: 0, message: `cannot expand the YAML aliases (*name) of the OpenAPI document: ${(error as Error).message}` }]);
  }
  return apiSpecFromObject(value, file, lineLocator(document, lineCounter));
}

/**
 * Builds the operation list of a parsed OpenAPI 3 document. Throws ApiSpecError listing every
 * problem. `origin` names the document in errors, and `locate` returns the line of a value.
 */
export function apiSpecFromObject(document: unknown, origin = 'the document', locate: (path: PathSegment[]) => number = () => 0): ApiSpecDocument {
  const reader = new SpecReader(document, origin, locate);
  const operations = reader.read();
  if (reader.issues.length > 0) throw new ApiSpecError(reader.issues);
  const info = isObject(document) && isObject(document.info) ? document.info : undefined;
  return { title: typeof info?.title === 'string' ? info.title : '', operations };
}

/** Returns a function that finds the line of the YAML node at a path, or of its nearest ancestor. */
function lineLocator(document: Document, lineCounter: LineCounter): (path: PathSegment[]) => number {
  const lineAt = (node: unknown): number => {
    const range = (node as YamlNode | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : 0;
  };
  return (path) => {
    let node: unknown = document.contents;
    let line = lineAt(node);
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(document);
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        // An error about an entry points at its key, the line a reader looks for.
        line = lineAt(pair.key) || line;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        line = lineAt(node) || line;
      } else {
        break;
      }
    }
    return line;
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Names a value's type with the YAML word for it, for messages. */
function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a sequence';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Formats a path the way config errors name values: `paths["/pets"].get`. */
function displayPath(path: PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** Collects a document's operations and the problems that make it unusable. */
class SpecReader {
  readonly issues: ConfigIssue[] = [];
  /** Keys of the issues already reported. A path item that several `$ref`s share is read once per reference. */
  private readonly reported = new Set<string>();

  constructor(private readonly root: unknown, private readonly origin: string, private readonly locate: (path: PathSegment[]) => number) {}

  read(): ApiOperation[] {
    const root = this.root;
    if (!isObject(root)) {
      this.report([], 'WP_ERR_CONFIG_INVALID_VALUE', root === null || root === undefined
        ? 'the OpenAPI document is empty'
        : `the OpenAPI document must be a map with "openapi", "info" and "paths", got ${describeType(root)}`);
      return [];
    }
    this.checkVersion(root);
    if (!Object.hasOwn(root, 'paths')) {
      this.report(['paths'], 'WP_ERR_CONFIG_MISSING_KEY', 'missing; shadow and zombie endpoint detection needs the documented paths');
      return [];
    }
    if (!isObject(root.paths)) {
      this.report(['paths'], 'WP_ERR_CONFIG_INVALID_VALUE', `must be a map of paths such as "/pets" to path items, got ${describeType(root.paths)}`);
      return [];
    }
    return this.readPaths(root.paths, basePaths(root.servers));
  }

  private checkVersion(root: Record<string, unknown>): void {
    const version = root.openapi;
    if (typeof version === 'string' && /^3\.\d+/.test(version)) return;
    if (version === undefined) {
      const swagger = root.swagger === undefined ? '' : `; this is a Swagger ${JSON.stringify(String(root.swagger))} document, convert it to OpenAPI 3`;
      this.report(['openapi'], 'WP_ERR_CONFIG_MISSING_KEY', `missing; expected an OpenAPI 3 document with "openapi: 3.x"${swagger}`);
    } else if (typeof version === 'number') {
      this.report(['openapi'], 'WP_ERR_CONFIG_INVALID_VALUE', `must be a version string such as "3.0.3", got the number ${version}; quote the version so that YAML reads it as a string`);
    } else {
      this.report(['openapi'], 'WP_ERR_CONFIG_INVALID_VALUE', `expected an OpenAPI 3 document with "openapi: 3.x", got ${describeType(version)}`);
    }
  }

  private readPaths(paths: Record<string, unknown>, bases: string[]): ApiOperation[] {
    const operations: ApiOperation[] = [];
    for (const [path, item] of Object.entries(paths)) {
      // Keys starting with x- are specification extensions, which the Paths Object allows.
      if (path.startsWith('x-')) continue;
      if (!path.startsWith('/')) {
        this.report(['paths', path], 'WP_ERR_CONFIG_INVALID_VALUE', `path ${JSON.stringify(path)} must start with "/"`);
        continue;
      }
      const methods = new Map<string, boolean>();
      this.readPathItem(item, ['paths', path], methods, []);
      for (const [method, deprecated] of methods) {
        for (const base of bases) operations.push({ method: method.toUpperCase(), path: `${base}${path}`, deprecated });
      }
    }
    return operations;
  }

  /**
   * Adds the operations of a path item to `methods` (method to deprecated flag). Operations
   * written next to a `$ref` win over those of the referenced item, whose merge OpenAPI leaves
   * undefined. `chain` holds the references followed to get here.
   */
  private readPathItem(item: unknown, where: PathSegment[], methods: Map<string, boolean>, chain: string[]): void {
    if (!isObject(item)) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `must be a path item, a map of operations such as get and post, got ${describeType(item)}`);
      return;
    }
    for (const method of METHODS) {
      if (!Object.hasOwn(item, method) || methods.has(method)) continue;
      const deprecated = this.readOperation(item[method], [...where, method], []);
      if (deprecated !== undefined) methods.set(method, deprecated);
    }
    if (!Object.hasOwn(item, '$ref')) return;
    const target = this.follow(item.$ref, [...where, '$ref'], chain);
    if (target) this.readPathItem(target.value, target.path, methods, [...chain, target.ref]);
  }

  /** Returns whether an operation is deprecated, or undefined after reporting why it is invalid. */
  private readOperation(operation: unknown, where: PathSegment[], chain: string[]): boolean | undefined {
    if (isObject(operation) && Object.hasOwn(operation, '$ref')) {
      const target = this.follow(operation.$ref, [...where, '$ref'], chain);
      return target ? this.readOperation(target.value, target.path, [...chain, target.ref]) : undefined;
    }
    if (!isObject(operation)) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `must be an operation, a map such as { responses: … }, got ${describeType(operation)}`);
      return undefined;
    }
    const deprecated = operation.deprecated ?? false;
    if (typeof deprecated !== 'boolean') {
      this.report([...where, 'deprecated'], 'WP_ERR_CONFIG_INVALID_VALUE', `must be true or false, got ${describeType(deprecated)}`);
      return undefined;
    }
    return deprecated;
  }

  /**
   * Resolves one `$ref` inside this document. Returns the value it points to and its path, or
   * undefined after reporting why it does not resolve. `chain` holds the references followed
   * before this one, to reject cycles.
   */
  private follow(ref: unknown, where: PathSegment[], chain: string[]): { value: unknown; path: PathSegment[]; ref: string } | undefined {
    if (typeof ref !== 'string') {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `must be a string such as "#/paths/~1pets", got ${describeType(ref)}`);
      return undefined;
    }
    if (!ref.startsWith('#')) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE',
        `${JSON.stringify(ref)} points outside this document; only local references such as "#/paths/~1pets" are resolved and nothing is fetched, so bundle the referenced parts into this file`);
      return undefined;
    }
    if (chain.includes(ref)) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `${JSON.stringify(ref)} is part of a $ref cycle: ${[...chain, ref].join(' -> ')}`);
      return undefined;
    }
    if (chain.length >= MAX_REF_CHAIN) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `${JSON.stringify(ref)} is reached through more than ${MAX_REF_CHAIN} chained $refs`);
      return undefined;
    }
    const tokens = parsePointer(ref);
    if (!tokens) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `${JSON.stringify(ref)} is not a valid JSON pointer; expected "#/" and keys separated by "/", with "~1" for "/" and "~0" for "~" inside a key`);
      return undefined;
    }
    const resolved = resolvePointer(this.root, tokens);
    if ('missing' in resolved) {
      this.report(where, 'WP_ERR_CONFIG_INVALID_VALUE', `${JSON.stringify(ref)} does not resolve: ${displayPath(resolved.parent) || 'the document root'} has no ${JSON.stringify(resolved.missing)}`);
      return undefined;
    }
    return { value: resolved.value, path: resolved.path, ref };
  }

  private report(path: PathSegment[], code: ErrorCode, message: string): void {
    const issue: ConfigIssue = { code, path: displayPath(path), file: this.origin, line: this.locate(path), message };
    const key = `${issue.path}\n${issue.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.issues.push(issue);
  }
}

/**
 * Splits a local reference into JSON pointer tokens (RFC 6901): the fragment after `#` is
 * percent-decoded, then `~1` becomes `/` and `~0` becomes `~`. Returns undefined when invalid.
 */
function parsePointer(ref: string): string[] | undefined {
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  if (pointer === '') return [];
  if (!pointer.startsWith('/') || /~(?![01])/.test(pointer)) return undefined;
  return pointer.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Walks pointer tokens from the root; reports the first token that names no key or index. */
function resolvePointer(root: unknown, tokens: string[]): { value: unknown; path: PathSegment[] } | { parent: PathSegment[]; missing: string } {
  let value = root;
  const path: PathSegment[] = [];
  for (const token of tokens) {
    if (Array.isArray(value) && /^(0|[1-9]\d*)$/.test(token) && Number(token) < value.length) {
      value = value[Number(token)];
      path.push(Number(token));
    } else if (isObject(value) && Object.hasOwn(value, token)) {
      value = value[token];
      path.push(token);
    } else {
      return { parent: path, missing: token };
    }
  }
  return { value, path };
}

/** Base paths of the `servers` list: `https://api.example.com/v1` gives `/v1`; no servers give `/`. */
function basePaths(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0) return [''];
  const bases = new Set<string>();
  for (const server of servers) {
    const url = (server as { url?: unknown })?.url;
    if (typeof url !== 'string') continue;
    let path = url;
    const scheme = url.indexOf('://');
    if (scheme >= 0) {
      const slash = url.indexOf('/', scheme + 3);
      path = slash >= 0 ? url.slice(slash) : '';
    }
    // Server variables such as {basePath} cannot be resolved from traffic; the default would be a guess.
    if (path.includes('{')) continue;
    bases.add(path.replace(/\/+$/, ''));
  }
  return bases.size > 0 ? [...bases] : [''];
}
