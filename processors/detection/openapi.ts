import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/*
 * The API as an OpenAPI 3 document describes it, for finding shadow endpoints (traffic on routes
 * the document does not list) and zombie endpoints (traffic on operations it marks deprecated).
 */

/** Trie nodes a lookup may visit before it gives up and reports the path undocumented. */
const MAX_LOOKUP_STEPS = 1024;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** One documented operation, as plain data that can cross into worker threads. */
export interface ApiOperation {
  /** Upper-case HTTP method. */
  method: string;
  /** The path template with the server's base path, such as `/v1/pets/{petId}`. */
  path: string;
  deprecated: boolean;
}

export interface ApiSpecDocument {
  title: string;
  operations: ApiOperation[];
}

/** The document's description of one request. */
export interface ApiLookup {
  /** The documented path template, when the path matches one. */
  template?: string;
  /** True when the document lists this method on the matched path. */
  documented: boolean;
  deprecated: boolean;
}

/** Reads an OpenAPI 3 document from YAML or JSON; throws with the reason when it is not one. */
export function loadApiSpec(file: string): ApiSpecDocument {
  const document = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  return apiSpecFromObject(document, file);
}

/** Builds the operation list of a parsed OpenAPI 3 document. */
export function apiSpecFromObject(document: unknown, origin = 'the document'): ApiSpecDocument {
  if (!document || typeof document !== 'object') throw new Error(`${origin}: not an OpenAPI document`);
  const root = document as Record<string, unknown>;
  if (typeof root.openapi !== 'string' || !root.openapi.startsWith('3.')) {
    throw new Error(`${origin}: expected an OpenAPI 3 document with "openapi: 3.x", got ${JSON.stringify(root.openapi ?? root.swagger ?? null)}`);
  }
  const paths = root.paths;
  if (!paths || typeof paths !== 'object') throw new Error(`${origin}: the document has no paths`);
  const bases = basePaths(root.servers);
  const operations: ApiOperation[] = [];
  for (const [path, item] of Object.entries(paths as Record<string, unknown>)) {
    if (!item || typeof item !== 'object' || !path.startsWith('/')) continue;
    for (const method of METHODS) {
      const operation = (item as Record<string, unknown>)[method];
      if (!operation || typeof operation !== 'object') continue;
      const deprecated = (operation as Record<string, unknown>).deprecated === true;
      for (const base of bases) operations.push({ method: method.toUpperCase(), path: joinPath(base, path), deprecated });
    }
  }
  const info = root.info as Record<string, unknown> | undefined;
  return { title: typeof info?.title === 'string' ? info.title : '', operations };
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

function joinPath(base: string, path: string): string {
  return `${base}${path}`;
}

interface TrieNode {
  literal: Map<string, TrieNode>;
  parameter?: TrieNode;
  /** Operations by method, on the path that ends here. */
  operations?: Map<string, ApiOperation>;
  template?: string;
}

function emptyNode(): TrieNode {
  return { literal: new Map() };
}

function isParameter(segment: string): boolean {
  return segment.length >= 2 && segment.startsWith('{') && segment.endsWith('}');
}

/** The document compiled into a segment trie: a lookup walks the path once, literals before parameters. */
export class ApiSpec {
  private readonly root = emptyNode();

  constructor(readonly document: ApiSpecDocument) {
    for (const operation of document.operations) {
      let node = this.root;
      for (const segment of operation.path.split('/').slice(1)) {
        if (isParameter(segment)) node = node.parameter ??= emptyNode();
        else {
          let next = node.literal.get(segment);
          if (!next) node.literal.set(segment, next = emptyNode());
          node = next;
        }
      }
      (node.operations ??= new Map()).set(operation.method, operation);
      node.template = operation.path;
    }
  }

  /** Looks up a request: whether its path and method are documented, and whether the operation is deprecated. */
  lookup(method: string, path: string): ApiLookup {
    const segments = path.split('/').slice(1);
    if (segments.length > 0 && segments[segments.length - 1] === '' && segments.length > 1) segments.pop();
    const node = this.walk(this.root, segments, 0, { steps: 0 });
    if (!node?.operations) return { documented: false, deprecated: false };
    const operation = node.operations.get(method.toUpperCase()) ?? (method.toUpperCase() === 'HEAD' ? node.operations.get('GET') : undefined);
    return { template: node.template, documented: operation !== undefined, deprecated: operation?.deprecated ?? false };
  }

  /**
   * Matches segments from `index`, preferring a literal segment over a parameter and falling back
   * to the parameter. The step budget bounds the fallbacks whatever the document's shape.
   */
  private walk(node: TrieNode, segments: string[], index: number, budget: { steps: number }): TrieNode | undefined {
    if (++budget.steps > MAX_LOOKUP_STEPS) return undefined;
    if (index === segments.length) return node.operations ? node : undefined;
    const literal = node.literal.get(segments[index]);
    const viaLiteral = literal ? this.walk(literal, segments, index + 1, budget) : undefined;
    if (viaLiteral) return viaLiteral;
    return node.parameter && segments[index] !== '' ? this.walk(node.parameter, segments, index + 1, budget) : undefined;
  }
}
