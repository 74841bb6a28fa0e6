/*
 * Detection quality and speed on the labelled request corpus (test/fixtures/detection/attacks):
 *
 * 1. Watchpost's single-request rules of the default pack judge every row. Posture rules
 *    (credentials in the URL, weak JWTs) are left out, since they report hygiene, not attacks.
 * 2. The same requests go through nginx with ModSecurity and the OWASP Core Rule Set (Debian's
 *    packages, paranoia level 1) on 127.0.0.1, when those packages are installed.
 * 3. Recall per attack class and the false-positive rate on benign rows are printed side by side,
 *    split by where the rows come from (CRS's own regression tests favour CRS).
 * 4. The rows taken from CrowdSec's scenario tests are measured a second way, in scenarios.ts:
 *    each test file's raw log lines go through the gatewaylog parser and the whole engine,
 *    stateful rules included. Recall is printed for all those rows and for the rows CrowdSec's own
 *    tests assert in their alerts, and command injection recall with a row counted when either
 *    measurement detects it.
 * 5. Stateless matching speed in this thread, which is what one worker thread does, on the corpus
 *    and on the replay fixture's access log (mostly benign traffic).
 *
 * usage: npm run bench:detection -- [--seconds 10] [--no-crs] [--json results.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism, cpus } from 'node:os';
import { defaultRulesPath } from '../../core/paths.js';
import { loadRules } from '../../processors/detection/rules/load.js';
import { DetectionStage, type EventMatch } from '../../processors/detection/worker.js';
import { eventFromFields, type HttpEvent } from '../../processors/detection/event.js';
import { labeledRequests, requestFields, type LabeledRequest } from '../../test/helpers/attack-corpus.js';
import { CrsServer, crsUnavailable, crsVersion, requestTarget } from './crs.js';
import { scenarioVerdicts, type LineVerdict } from './scenarios.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, 'no-crs': { type: 'boolean', default: false }, json: { type: 'string' } } });
const seconds = Number(values.seconds);

/** Rewrites a row's target the way `requestTarget` sends it to nginx, so both sides judge the same request. */
function sentRow(row: LabeledRequest): LabeledRequest {
  return { ...row, uri: requestTarget(row.uri) };
}

const rows = labeledRequests().map(sentRow);
const rules = loadRules([defaultRulesPath()]);
const stage = new DetectionStage({ rules, markAttribute: '', apiKeyHashKey: 'bench' });
const attackRules = new Set(rules.rules.map((rule, index) => (rule.trigger.kind === 'single' && !rule.tags.includes('posture') ? index : -1)).filter((index) => index >= 0));
const events: HttpEvent[] = rows.map((row) => eventFromFields(requestFields(row), Date.UTC(2024, 0, 1), stage.extractOptions));

const ACCESS_LOG = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'detection', 'replay', 'access.log');
/** nginx "combined" lines whose request line has no spaces in the target. */
const COMBINED = /^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+) HTTP\/[0-9.]+" (\d{3}) (\d+) "[^"]*" "([^"]*)"/;

/** Events of the replay fixture's access log: mostly benign browsing and API calls, some attacks. */
function accessLogEvents(): HttpEvent[] {
  const parsed: HttpEvent[] = [];
  for (const line of readFileSync(ACCESS_LOG, 'utf8').split('\n')) {
    const match = COMBINED.exec(line);
    if (!match) continue;
    const [, address, method, target, status, bytes, agent] = match;
    const question = target.indexOf('?');
    const fields: Record<string, unknown> = {
      'client.address': address, 'http.request.method': method, 'url.path': question >= 0 ? target.slice(0, question) : target,
      'http.response.status_code': Number(status), 'http.response.body.size': Number(bytes), 'user_agent.original': agent,
    };
    if (question >= 0) fields['url.query'] = target.slice(question + 1);
    parsed.push(eventFromFields(fields, Date.UTC(2024, 0, 1), stage.extractOptions));
  }
  return parsed;
}

function watchpostVerdicts(): boolean[] {
  return events.map((event) => {
    const matches: EventMatch[] = [];
    stage.evaluate(event, matches);
    return matches.some((match) => match.rules.some((index) => attackRules.has(index)));
  });
}

async function crsVerdicts(): Promise<boolean[] | string> {
  if (values['no-crs']) return 'skipped (--no-crs)';
  const problem = crsUnavailable();
  if (problem) return `skipped: ${problem}`;
  const server = await CrsServer.start();
  try {
    const verdicts = await server.judge(rows.map((row) => ({
      id: `r${row.row}`, method: row.method, target: row.uri, userAgent: row.userAgent && row.userAgent !== '-' ? row.userAgent : undefined, headers: row.headers,
    })));
    return rows.map((row) => verdicts.get(`r${row.row}`)?.detected ?? false);
  } finally {
    await server.stop();
  }
}

interface Cell {
  rows: number;
  watchpost: number;
  crs: number;
}

function tabulate(watchpost: boolean[], crs: boolean[] | undefined): Map<string, Cell> {
  const table = new Map<string, Cell>();
  rows.forEach((row, index) => {
    for (const key of [`${row.label}|all`, `${row.label}|${row.sourceKind}`, ...(row.sourceKind === 'crs' ? [] : [`${row.label}|not-crs`])]) {
      const cell = table.get(key) ?? { rows: 0, watchpost: 0, crs: 0 };
      cell.rows++;
      if (watchpost[index]) cell.watchpost++;
      if (crs?.[index]) cell.crs++;
      table.set(key, cell);
    }
  });
  return table;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

function printTable(table: Map<string, Cell>, withCrs: boolean): void {
  const columns = ['class', 'rows', 'Watchpost recall', ...(withCrs ? ['CRS recall'] : []), 'rows not from CRS tests', 'Watchpost', ...(withCrs ? ['CRS'] : [])];
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => ' --- ').join('|')}|`);
  const labels = [...new Set(rows.map((row) => row.label))].filter((label) => label !== 'benign').sort();
  for (const label of labels) {
    const all = table.get(`${label}|all`) as Cell;
    const other = table.get(`${label}|not-crs`) ?? { rows: 0, watchpost: 0, crs: 0 };
    const cells = [label, String(all.rows), percent(all.watchpost, all.rows)];
    if (withCrs) cells.push(percent(all.crs, all.rows));
    cells.push(String(other.rows), percent(other.watchpost, other.rows));
    if (withCrs) cells.push(percent(other.crs, other.rows));
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log(`| benign rows (false positives) | rows | Watchpost |${withCrs ? ' CRS |' : ''}`);
  console.log(`| --- | --- | --- |${withCrs ? ' --- |' : ''}`);
  for (const source of ['all', 'crs', 'libinjection']) {
    const cell = table.get(`benign|${source}`);
    if (!cell) continue;
    const cells = [source, String(cell.rows), `${cell.watchpost} (${percent(cell.watchpost, cell.rows)})`];
    if (withCrs) cells.push(`${cell.crs} (${percent(cell.crs, cell.rows)})`);
    console.log(`| ${cells.join(' | ')} |`);
  }
}

/** Returns the row's source without the markers the TSV appends after a space, `(in-alert)` and `[payload in Referer: ...]`. */
function scenarioSource(row: LabeledRequest): string {
  return row.source.split(' ')[0];
}

/** Reports whether a CrowdSec row is one that its scenario test asserts as part of the alert. */
function inAlert(row: LabeledRequest): boolean {
  return row.source.includes(' (in-alert)');
}

interface ScenarioCell {
  rows: number;
  /** Rows the single-request rules flag, as in the first table. */
  single: number;
  /** Rows a finding of the stateful replay covers. */
  replay: number;
  inAlert: number;
  inAlertReplay: number;
  /** Rows not in CrowdSec's alert (context lines of the test) that a finding covers. */
  contextReplay: number;
}

function tabulateScenarios(watchpost: boolean[], verdicts: Map<string, LineVerdict>): Map<string, ScenarioCell> {
  const table = new Map<string, ScenarioCell>();
  rows.forEach((row, index) => {
    if (row.sourceKind !== 'crowdsec-hub') return;
    const covered = (verdicts.get(scenarioSource(row))?.rules.length ?? 0) > 0;
    for (const key of [row.label, 'all classes']) {
      const cell = table.get(key) ?? { rows: 0, single: 0, replay: 0, inAlert: 0, inAlertReplay: 0, contextReplay: 0 };
      cell.rows++;
      if (watchpost[index]) cell.single++;
      if (covered) cell.replay++;
      if (inAlert(row)) {
        cell.inAlert++;
        if (covered) cell.inAlertReplay++;
      } else if (covered) {
        cell.contextReplay++;
      }
      table.set(key, cell);
    }
  });
  return table;
}

function printScenarioTable(table: Map<string, ScenarioCell>): void {
  const columns = ['class', 'CrowdSec rows', 'Watchpost single-request', 'Watchpost replay', 'CrowdSec alert', '(in-alert) rows', 'Watchpost replay', 'CrowdSec', 'context rows covered'];
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => ' --- ').join('|')}|`);
  const labels = [...table.keys()].filter((label) => label !== 'all classes').sort();
  for (const label of [...labels, 'all classes']) {
    const cell = table.get(label) as ScenarioCell;
    console.log(`| ${[
      label, String(cell.rows), percent(cell.single, cell.rows), percent(cell.replay, cell.rows), percent(cell.inAlert, cell.rows),
      String(cell.inAlert), percent(cell.inAlertReplay, cell.inAlert), cell.inAlert > 0 ? '100.0%' : '-', `${cell.contextReplay} of ${cell.rows - cell.inAlert}`,
    ].join(' | ')} |`);
  }
  console.log('');
  console.log('CrowdSec: the share of rows its own test asserts in the alert, so 100% of the (in-alert) rows by construction.');
}

interface Combined {
  rows: number;
  detected: number;
  /** The same without the CrowdSec rows that are not in the alert (context lines of the test). */
  rowsWithoutContext: number;
  detectedWithoutContext: number;
  /** CRS's verdicts on the same rows, when it ran. */
  crs: number;
  crsWithoutContext: number;
  missed: LabeledRequest[];
}

/** Computes one class's recall when a row counts as detected by either measurement. */
function combinedRecall(label: string, watchpost: boolean[], verdicts: Map<string, LineVerdict>, crs?: boolean[]): Combined {
  const combined: Combined = { rows: 0, detected: 0, rowsWithoutContext: 0, detectedWithoutContext: 0, crs: 0, crsWithoutContext: 0, missed: [] };
  rows.forEach((row, index) => {
    if (row.label !== label) return;
    const scenario = row.sourceKind === 'crowdsec-hub';
    const detected = watchpost[index] || (scenario && (verdicts.get(scenarioSource(row))?.rules.length ?? 0) > 0);
    const context = scenario && !inAlert(row);
    combined.rows++;
    if (detected) combined.detected++;
    else combined.missed.push(row);
    if (crs?.[index]) combined.crs++;
    if (context) return;
    combined.rowsWithoutContext++;
    if (detected) combined.detectedWithoutContext++;
    if (crs?.[index]) combined.crsWithoutContext++;
  });
  return combined;
}

/** Classes with a recall target, and the target. */
const RECALL_TARGETS: Array<[string, number]> = [['sqli', 0.95], ['xss', 0.95], ['lfi', 0.95], ['rce', 0.95]];

/**
 * Prints the recall of each class with a target, over all rows and over the attack rows. A row
 * counts when either measurement detects it. Attack rows are all rows except CrowdSec's context
 * lines: the lines of a scenario test that the test does not assert in its alert. Those are the
 * product's ordinary traffic around the attack (stream requests, logins), or the attack going on
 * after the alert, and the corpus gives them the test's class either way.
 */
function printTargets(recalls: Map<string, Combined>, withCrs: boolean): void {
  const columns = ['class', 'target', 'rows', 'Watchpost', ...(withCrs ? ['CRS'] : []), 'attack rows', 'Watchpost', ...(withCrs ? ['CRS'] : []), 'met'];
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => ' --- ').join('|')}|`);
  for (const [label, target] of RECALL_TARGETS) {
    const recall = recalls.get(label) as Combined;
    const share = recall.detectedWithoutContext / recall.rowsWithoutContext;
    const cells = [label, percent(target, 1), String(recall.rows), percent(recall.detected, recall.rows)];
    if (withCrs) cells.push(percent(recall.crs, recall.rows));
    cells.push(String(recall.rowsWithoutContext), percent(recall.detectedWithoutContext, recall.rowsWithoutContext));
    if (withCrs) cells.push(percent(recall.crsWithoutContext, recall.rowsWithoutContext));
    cells.push(share >= target ? 'yes' : 'no');
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log('A row counts when the single-request rules or the replay of its CrowdSec test flag it. Attack rows: all rows except the CrowdSec lines that the test does not assert in its alert.');
}

function printCombined(label: string, combined: Combined): void {
  console.log(`${label}, detected by either measurement: ${combined.detected} of ${combined.rows} (${percent(combined.detected, combined.rows)}); without the CrowdSec rows outside the alert: ${combined.detectedWithoutContext} of ${combined.rowsWithoutContext} (${percent(combined.detectedWithoutContext, combined.rowsWithoutContext)})`);
  console.log(`${label} rows missed by both:`);
  for (const row of combined.missed) console.log(`  ${row.source}  ${row.method} ${row.uri.length > 90 ? `${row.uri.slice(0, 90)}…` : row.uri}`);
}

/**
 * Events per second of `evaluate` over the corpus, in this thread, for about `limit` seconds: by
 * the wall clock, and per second of CPU time the process used, which moves less when other
 * programs share the cores.
 */
function throughput(mix: HttpEvent[], limit: number): { eventsPerSecond: number; eventsPerCpuSecond: number; events: number } {
  const warm = performance.now();
  while (performance.now() - warm < 1000) for (const event of mix) stage.evaluate(event, []);
  let count = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < limit * 1000) {
    for (const event of mix) {
      const matches: EventMatch[] = [];
      stage.evaluate(event, matches);
      count++;
    }
  }
  const used = process.cpuUsage(cpu);
  return {
    eventsPerSecond: Math.round(count / ((performance.now() - start) / 1000)),
    eventsPerCpuSecond: Math.round(count / ((used.user + used.system) / 1e6)),
    events: count,
  };
}

async function main(): Promise<void> {
  console.log(`# detection benchmark: ${rows.length} labelled requests, ${rules.rules.length} rules (${attackRules.size} single-request attack rules)`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, Node ${process.version}`);
  const watchpost = watchpostVerdicts();
  const crs = await crsVerdicts();
  const withCrs = Array.isArray(crs);
  console.log(withCrs ? `ModSecurity: nginx + OWASP CRS ${crsVersion()}, paranoia level 1, anomaly threshold 5, on 127.0.0.1` : `ModSecurity: ${crs}`);
  console.log('');
  const table = tabulate(watchpost, withCrs ? crs : undefined);
  printTable(table, withCrs);
  console.log('');
  const verdicts = scenarioVerdicts(rules);
  const unmatched = rows.filter((row) => row.sourceKind === 'crowdsec-hub' && !verdicts.has(scenarioSource(row)));
  if (unmatched.length > 0) console.log(`warning: ${unmatched.length} CrowdSec rows have no line in the scenario fixture and count as missed`);
  const scenarioTable = tabulateScenarios(watchpost, verdicts);
  console.log('Rows from CrowdSec scenario tests, each test file replayed through the parser and the whole engine on event time:');
  console.log('');
  printScenarioTable(scenarioTable);
  console.log('');
  const recalls = new Map(RECALL_TARGETS.map(([label]) => [label, combinedRecall(label, watchpost, verdicts, withCrs ? crs : undefined)]));
  const rce = recalls.get('rce') as Combined;
  printCombined('rce', rce);
  console.log('');
  const speed = throughput(events, seconds);
  console.log(`stateless matching, one thread, corpus mix: ${speed.eventsPerSecond} events/s by the wall clock, ${speed.eventsPerCpuSecond} events per CPU second (${speed.events} events in about ${seconds} s)`);
  const logSpeed = throughput(accessLogEvents(), seconds);
  console.log(`stateless matching, one thread, access-log mix: ${logSpeed.eventsPerSecond} events/s by the wall clock, ${logSpeed.eventsPerCpuSecond} events per CPU second (${logSpeed.events} events in about ${seconds} s)`);
  console.log('');
  console.log('Recall against the targets, each row counted when either measurement detects it:');
  console.log('');
  printTargets(recalls, withCrs);
  if (values.json) {
    const summaries = Object.fromEntries([...recalls].map(([label, recall]) => [label, { ...recall, missed: recall.missed.map((row) => row.source) }]));
    writeFileSync(values.json, `${JSON.stringify({ table: Object.fromEntries(table), scenarios: Object.fromEntries(scenarioTable), recalls: summaries, speed, logSpeed, crs: withCrs ? crsVersion() : crs }, null, 2)}\n`);
  }
}

await main();
