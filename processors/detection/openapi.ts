/*
 * The API as an OpenAPI 3 document describes it, for finding shadow endpoints (traffic on routes
 * the document does not list) and zombie endpoints (traffic on operations it marks deprecated).
 */

/** Trie nodes a lookup may visit before it gives up and reports the path undocumented. */
const MAX_LOOKUP_STEPS = 1024;

/** The operation fields of an OpenAPI 3 path item, one per HTTP method. */
export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

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
