import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { canonicalRoute, parseTemplate, type RouteTemplate } from './routes.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The routes an OpenAPI document describes, with the server base paths prepended. */
export interface OpenApiRoutes {
  file: string;
  templates: RouteTemplate[];
  /** Canonical route (see canonicalRoute) to its template and methods, for inventory lookups. */
  byCanonical: Map<string, RouteTemplate>;
}

function basePaths(document: Record<string, unknown>): string[] {
  const paths = new Set<string>();
  if (typeof document.basePath === 'string' && document.basePath !== '/') paths.add(document.basePath.replace(/\/+$/, ''));
  const servers = Array.isArray(document.servers) ? document.servers as { url?: unknown }[] : [];
  for (const server of servers) {
    if (typeof server.url !== 'string') continue;
    let path = server.url;
    const scheme = path.indexOf('://');
    if (scheme >= 0) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash >= 0 ? path.slice(slash) : '';
    }
    path = path.replace(/\/+$/, '');
    if (path !== '' && !path.includes('{')) paths.add(path);
  }
  return [...paths];
}

/** Reads an OpenAPI 3 or Swagger 2 document; throws with the file name when it is unreadable or has no paths. */
export function loadOpenApi(file: string): OpenApiRoutes {
  let document: unknown;
  try {
    document = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read OpenAPI document ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const paths = (document as { paths?: unknown } | null)?.paths;
  if (!paths || typeof paths !== 'object') throw new Error(`OpenAPI document ${file} has no "paths" map`);
  const prefixes = ['', ...basePaths(document as Record<string, unknown>)];
  const templates: RouteTemplate[] = [];
  for (const [path, item] of Object.entries(paths as Record<string, unknown>)) {
    const methods = item && typeof item === 'object' ? Object.keys(item).filter((key) => METHODS.includes(key)).map((key) => key.toUpperCase()) : [];
    for (const prefix of prefixes) templates.push(parseTemplate(`${prefix}${path}`, methods));
  }
  const byCanonical = new Map(templates.map((template) => [canonicalRoute(template.template), template]));
  return { file, templates, byCanonical };
}
