import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../../core/config/node.js';
import { ApiSpec } from '../../../processors/detection/openapi.js';
import { ApiSpecError, apiSpecFromObject, loadApiSpec } from '../../../processors/detection/openapi-load.js';
import { tempDirectory } from '../../helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'detection', 'openapi');
const fixture = (name: string) => join(FIXTURES, name);

function issuesOf(load: () => unknown): ConfigIssue[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ApiSpecError) return error.issues;
    throw error;
  }
  throw new Error('the document loaded without errors');
}

function issueAt(issues: ConfigIssue[], path: string): ConfigIssue {
  const issue = issues.find((candidate) => candidate.path === path);
  if (!issue) throw new Error(`no issue at ${path}; issues: ${JSON.stringify(issues)}`);
  return issue;
}

describe('openapi document refs', () => {
  const spec = new ApiSpec(loadApiSpec(fixture('refs.yaml')));

  it('resolves a path item ref', () => {
    expect(spec.lookup('GET', '/b')).toEqual({ template: '/b', documented: true, deprecated: false });
  });

  it('resolves a ref into components', () => {
    expect(spec.lookup('DELETE', '/c/7')).toEqual({ template: '/c/{id}', documented: true, deprecated: true });
  });

  it('unescapes ~0 in a pointer', () => {
    expect(spec.lookup('GET', '/u').deprecated).toBe(true);
  });

  it('resolves an operation ref', () => {
    expect(spec.lookup('GET', '/v').deprecated).toBe(true);
    expect(spec.lookup('POST', '/v').documented).toBe(true);
  });

  it('follows a percent-encoded ref chain', () => {
    expect(spec.lookup('DELETE', '/w').deprecated).toBe(true);
    expect(spec.lookup('GET', '/w').documented).toBe(true);
  });

  it('reads operations merged with a YAML merge key', () => {
    const merged = new ApiSpec(loadApiSpec(fixture('merge.yaml')));

    expect(merged.lookup('GET', '/c').documented).toBe(true);
    expect(merged.lookup('POST', '/c').documented).toBe(true);
  });

  it('skips extension keys in paths', () => {
    expect(spec.document.operations.map((operation) => operation.path)).not.toContain('x-internal');
  });
});

describe('openapi document errors', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('rejects paths given as a list', () => {
    const issues = issuesOf(() => loadApiSpec(fixture('bad_paths_list.yaml')));

    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('paths');
    expect(issues[0].message).toBe('must be a map of paths such as "/pets" to path items, got a sequence');
    expect(issues[0].file).toBe(fixture('bad_paths_list.yaml'));
    expect(issues[0].line).toBe(3);
  });

  it('lists every structural problem with its line', () => {
    const issues = issuesOf(() => loadApiSpec(fixture('bad_structure.yaml')));

    expect(issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['paths.no-slash', 4],
      ['paths["/null"]', 6],
      ['paths["/list"]', 7],
      ['paths["/operation"].get', 9],
      ['paths["/deprecated"].get.deprecated', 11],
    ]);
    expect(issues[0].message).toBe('path "no-slash" must start with "/"');
    expect(issues[1].message).toContain('must be a path item');
    expect(issues[3].message).toContain('must be an operation');
    expect(issues[4].message).toBe('must be true or false, got string "yes"');
  });

  it('rejects a remote ref', () => {
    const issue = issueAt(issuesOf(() => loadApiSpec(fixture('bad_refs.yaml'))), 'paths["/remote"].$ref');

    expect(issue.line).toBe(5);
    expect(issue.message).toContain('"http://127.0.0.1:9/pets.yaml" points outside this document');
  });

  it('rejects a ref to another file', () => {
    const issue = issueAt(issuesOf(() => loadApiSpec(fixture('bad_refs.yaml'))), 'paths["/other-file"].$ref');

    expect(issue.line).toBe(7);
    expect(issue.message).toContain('points outside this document');
  });

  it('rejects a ref that does not resolve', () => {
    const issue = issueAt(issuesOf(() => loadApiSpec(fixture('bad_refs.yaml'))), 'paths["/missing"].$ref');

    expect(issue.line).toBe(9);
    expect(issue.message).toBe('"#/paths/~1nowhere" does not resolve: paths has no "/nowhere"');
  });

  it('rejects a path item ref cycle', () => {
    const issues = issuesOf(() => loadApiSpec(fixture('bad_refs.yaml')));

    expect(issueAt(issues, 'paths["/loop-a"].$ref').message).toBe('"#/paths/~1loop-b" is part of a $ref cycle: #/paths/~1loop-b -> #/paths/~1loop-a -> #/paths/~1loop-b');
    expect(issueAt(issues, 'paths["/loop-b"].$ref').message).toContain('is part of a $ref cycle');
  });

  it('rejects an operation ref to itself', () => {
    const issue = issueAt(issuesOf(() => loadApiSpec(fixture('bad_refs.yaml'))), 'paths["/self"].get.$ref');

    expect(issue.line).toBe(16);
    expect(issue.message).toContain('is part of a $ref cycle');
  });

  it('rejects a ref that is not a JSON pointer', () => {
    const issue = issueAt(issuesOf(() => loadApiSpec(fixture('bad_refs.yaml'))), 'paths["/bad-pointer"].$ref');

    expect(issue.message).toContain('"#paths" is not a valid JSON pointer');
  });

  it('fetches nothing for a remote ref', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    let requests = 0;
    const server = createServer((_request, response) => {
      requests++;
      response.end('openapi: 3.0.3\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const file = join(directory.path, 'remote.yaml');
    writeFileSync(file, `openapi: 3.0.3\ninfo: { title: x, version: "1" }\npaths:\n  /a: { $ref: "http://127.0.0.1:${port}/a.yaml" }\n`);

    const issues = issuesOf(() => loadApiSpec(file));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => server.close(resolve));

    expect(issues[0].path).toBe('paths["/a"].$ref');
    expect(requests).toBe(0);
  });

  it('names the file and opening line of a YAML error', () => {
    const issues = issuesOf(() => loadApiSpec(fixture('bad_yaml.yaml')));

    expect(issues).toHaveLength(1);
    expect(issues[0].file).toBe(fixture('bad_yaml.yaml'));
    expect(issues[0].line).toBe(4);
    expect(issues[0].message).toContain('invalid YAML');
  });

  it('rejects a YAML alias bomb', () => {
    const issues = issuesOf(() => loadApiSpec(fixture('bad_aliases.yaml')));

    expect(issues[0].file).toBe(fixture('bad_aliases.yaml'));
    expect(issues[0].message).toContain('alias');
  });

  it('names a missing file', () => {
    const issues = issuesOf(() => loadApiSpec(fixture('no-such-file.yaml')));

    expect(issues[0].file).toBe(fixture('no-such-file.yaml'));
    expect(issues[0].message).toContain('cannot read the OpenAPI document');
  });

  it('rejects a document that is not a map', () => {
    expect(issuesOf(() => apiSpecFromObject([1, 2]))[0].message).toContain('must be a map with "openapi", "info" and "paths", got a sequence');
    expect(issuesOf(() => apiSpecFromObject('just a string'))[0].message).toContain('got string "just a string"');
    expect(issuesOf(() => apiSpecFromObject(null))[0].message).toBe('the OpenAPI document is empty');
  });

  it('rejects a Swagger 2 document', () => {
    const issue = issuesOf(() => apiSpecFromObject({ swagger: '2.0', paths: {} }))[0];

    expect(issue.path).toBe('openapi');
    expect(issue.message).toContain('Swagger "2.0" document');
  });

  it('rejects an unquoted version number', () => {
    const issue = issuesOf(() => apiSpecFromObject({ openapi: 3.1, paths: {} }))[0];

    expect(issue.path).toBe('openapi');
    expect(issue.message).toContain('quote the version');
  });

  it('rejects a document without paths', () => {
    const issue = issuesOf(() => apiSpecFromObject({ openapi: '3.0.3', info: { title: 'x', version: '1' } }))[0];

    expect(issue.path).toBe('paths');
    expect(issue.code).toBe('WP_ERR_CONFIG_MISSING_KEY');
  });
});
