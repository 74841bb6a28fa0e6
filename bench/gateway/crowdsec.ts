import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/*
 * Runs CrowdSec from Debian's package (1.4.6 on Debian 12) over an nginx log in its replay mode,
 * `crowdsec -dsn file://… -type nginx`, with the parsers and scenarios the package enabled. It runs
 * offline and on loopback only:
 * - the config is a private copy of /etc/crowdsec in a work directory, with no Central API;
 * - the replay pushes its alerts to a Local API, so one runs in the same process on a free
 *   127.0.0.1 port, with a sqlite database in the work directory (`-no-api` makes the agent exit
 *   when it cannot reach one);
 * - the package's http-path-traversal-probing scenario reads `http_path_traversal.txt`, which the
 *   package ships as `path_traversal.txt`, so the private data directory gets a copy under the
 *   expected name;
 * - `cscli` 1.4.6 looks up the hub branch online unless `hub_branch` is set, so it is set.
 */

export interface CrowdSecRun {
  version: string;
  lines: number;
  seconds: number;
  /** CPU seconds of the crowdsec process, all threads. */
  cpuSeconds: number;
  timedOut: boolean;
  /** Alerts as `address` and scenario. */
  alerts: { address: string; scenario: string }[];
}

export function crowdsecInstalled(): boolean {
  return spawnSync('crowdsec', ['-version'], { stdio: 'ignore' }).status === 0 && existsSync('/etc/crowdsec/scenarios');
}

function version(): string {
  const output = spawnSync('crowdsec', ['-version'], { encoding: 'utf8' });
  return /version: (\S+)/.exec(`${output.stdout}${output.stderr}`)?.[1] ?? 'unknown';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(work: string, port: number): string {
  return `common:
  daemonize: false
  log_media: file
  log_level: info
  log_dir: ${work}/log/
  working_dir: .
config_paths:
  config_dir: ${work}/cfg/
  data_dir: ${work}/data/
  simulation_path: ${work}/cfg/simulation.yaml
  hub_dir: /var/lib/crowdsec/hub/
  index_path: /var/lib/crowdsec/hub/.index.json
  notification_dir: ${work}/cfg/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: ${work}/acquis.yaml
  parser_routines: 1
cscli:
  output: human
  hub_branch: master
db_config:
  log_level: info
  type: sqlite
  use_wal: true
  db_path: ${work}/crowdsec.db
api:
  client:
    insecure_skip_verify: false
    credentials_path: ${work}/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:${port}
    profiles_path: ${work}/cfg/profiles.yaml
    trusted_ips: [127.0.0.1, "::1"]
prometheus:
  enabled: false
`;
}

/** Builds the private config and data directory under `work`; returns the config file. */
async function prepare(work: string): Promise<string> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'log'), { recursive: true });
  mkdirSync(join(work, 'cfg'), { recursive: true });
  for (const item of ['collections', 'parsers', 'scenarios', 'postoverflows', 'patterns', 'profiles.yaml', 'simulation.yaml']) {
    if (existsSync(join('/etc/crowdsec', item))) cpSync(join('/etc/crowdsec', item), join(work, 'cfg', item), { recursive: true, verbatimSymlinks: true });
  }
  cpSync('/usr/share/crowdsec/data', join(work, 'data'), { recursive: true });
  if (!existsSync(join(work, 'data', 'http_path_traversal.txt')) && existsSync(join(work, 'data', 'path_traversal.txt'))) {
    cpSync(join(work, 'data', 'path_traversal.txt'), join(work, 'data', 'http_path_traversal.txt'));
  }
  writeFileSync(join(work, 'acquis.yaml'), '# the replay names its file with -dsn\n');
  const file = join(work, 'config.yaml');
  writeFileSync(file, config(work, await freePort()));
  const machine = spawnSync('cscli', ['-c', file, 'machines', 'add', 'bench', '--auto', '-f', join(work, 'local_api_credentials.yaml'), '--force'], { encoding: 'utf8' });
  if (machine.status !== 0) throw new Error(`cscli machines add failed: ${machine.stderr || machine.stdout}`);
  return file;
}

/** CPU clock ticks of a process and its threads, from /proc (Linux). */
function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

const CLOCK_TICKS = 100;
const ALERT = /Ip (\S+) performed '([^']+)'/g;

/** Replays `log` through CrowdSec; stops it after `timeoutSeconds`. */
export async function runCrowdSec(log: string, lines: number, work: string, timeoutSeconds: number): Promise<CrowdSecRun> {
  const file = await prepare(work);
  const started = Date.now();
  // With -dsn, CrowdSec logs to standard output whatever log_media the config sets.
  const output = openSync(join(work, 'log', 'crowdsec.log'), 'w');
  const child = spawn('crowdsec', ['-c', file, '-dsn', `file://${log}`, '-type', 'nginx'], { stdio: ['ignore', output, output] });
  let ticks = 0;
  let timedOut = false;
  const sampler = setInterval(() => {
    const sample = cpuTicks(child.pid as number);
    if (Number.isFinite(sample)) ticks = sample;
    if (Date.now() - started > timeoutSeconds * 1000) {
      timedOut = true;
      child.kill('SIGTERM');
    }
  }, 250);
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  clearInterval(sampler);
  closeSync(output);
  const seconds = (Date.now() - started) / 1000;
  const text = existsSync(join(work, 'log', 'crowdsec.log')) ? readFileSync(join(work, 'log', 'crowdsec.log'), 'utf8') : '';
  const alerts = [...text.matchAll(ALERT)].map((match) => ({ address: match[1], scenario: match[2] }));
  return { version: version(), lines, seconds, cpuSeconds: ticks / CLOCK_TICKS, timedOut, alerts };
}
