// Syslog ingest benchmark: Watchpost (parsing and detection), rsyslog and syslog-ng each receive
// the same generated RFC 5424 stream over TCP on loopback for SECONDS and write one line per
// message to a file. It prints messages per second, loss and CPU seconds per million messages.
// usage: npm run bench:syslog [-- SECONDS [RECEIVERS]]   (builds dist/ first; or node bench/syslog/run.mjs)
//   RECEIVERS: a comma-separated subset of watchpost,rsyslog,syslog-ng; default all three
// env: SYSLOG_NG_ROOT  an unpacked syslog-ng-core package (dpkg -x), default /tmp/watchpost-peers/syslog-ng/root
import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SECONDS = Number(process.argv[2] ?? 10);
const RECEIVERS = (process.argv[3] ?? 'watchpost,rsyslog,syslog-ng').split(',');
const WORK = mkdtempSync(join(tmpdir(), 'watchpost-bench-syslog-'));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const PORTS = { watchpost: 15601, admin: 15688, rsyslog: 15602, syslogng: 15603 };

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function cpuSeconds(pid) {
  try {
    const fields = execFileSync('cat', [`/proc/${pid}/stat`]).toString().replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

async function countLines(path) {
  if (!existsSync(path)) return 0;
  let lines = 0;
  for await (const chunk of createReadStream(path)) for (const byte of chunk) if (byte === 10) lines++;
  return lines;
}

async function waitForPort(port, child, name) {
  const { connect } = await import('node:net');
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const open = await new Promise((done) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); done(true); });
      socket.on('error', () => done(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`${name} did not listen on ${port}`);
}

/** Runs one receiver: start it, send for SECONDS, wait until its count stops growing, stop it. */
async function measure(name, { command, args, env, port, count }) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  try {
    await waitForPort(port, child, name);
    await sleep(500);
    const cpu0 = cpuSeconds(child.pid);
    const t0 = Date.now();
    const generator = spawn(process.execPath, [join(import.meta.dirname, 'generate.mjs'), String(port), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    generator.stdout.on('data', (chunk) => { output += chunk; });
    await new Promise((done) => generator.on('exit', done));
    const sent = Number(/sent=(\d+)/.exec(output)?.[1] ?? 0);
    let last = -1;
    let lastGrowth = Date.now();
    for (let stable = 0; stable < 15 && Date.now() - lastGrowth < 120_000;) {
      const current = await count();
      if (current !== last) { last = current; lastGrowth = Date.now(); stable = 0; } else stable++;
      await sleep(100);
    }
    const cpu = cpuSeconds(child.pid) - cpu0;
    const received = await count();
    const elapsed = (lastGrowth - t0) / 1000;
    return { name, sent, received, loss: sent - received, rate: received / elapsed, cpuPerMillion: received > 0 ? (cpu / received) * 1e6 : 0, elapsed };
  } catch (error) {
    return { name, error: `${error.message} ${stderr.slice(0, 300)}` };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done() : child.on('exit', done)));
  }
}

function watchpost() {
  const out = join(WORK, 'watchpost.log');
  const config = join(WORK, 'watchpost.yaml');
  writeFileSync(config, `
receivers:
  syslog:
    tcp: { endpoint: 127.0.0.1:${PORTS.watchpost} }
processors:
  detection: {}
exporters:
  file/telemetry: { path: ${out}, format: text }
  file/findings: { path: ${join(WORK, 'findings.jsonl')} }
service:
  telemetry: { logs: { level: warn } }
  admin: { endpoint: 127.0.0.1:${PORTS.admin} }
  storage: { directory: ${join(WORK, 'data')} }
  pipelines:
    logs: { receivers: [syslog], processors: [detection], exporters: [file/telemetry] }
    findings: { receivers: [detection], exporters: [file/findings] }
`);
  const main = join(ROOT, 'dist', 'core', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing; run npm run build first`);
  return { command: process.execPath, args: [main, 'run', '--config', config], port: PORTS.watchpost, count: () => countLines(out) };
}

function rsyslog() {
  const out = join(WORK, 'rsyslog.log');
  const config = join(WORK, 'rsyslog.conf');
  writeFileSync(config, `
global(workDirectory="${WORK}")
module(load="imtcp")
template(name="fields" type="string" string="%HOSTNAME% %APP-NAME% %PROCID% %msg%\\n")
input(type="imtcp" address="127.0.0.1" port="${PORTS.rsyslog}" ruleset="bench")
ruleset(name="bench") { action(type="omfile" file="${out}" template="fields") }
`);
  return { command: '/usr/sbin/rsyslogd', args: ['-n', '-f', config, '-i', join(WORK, 'rsyslog.pid')], port: PORTS.rsyslog, count: () => countLines(out) };
}

/** Names the shared libraries a syslog-ng module needs but cannot find, from ldd. */
function missingLibraries(root, modules, module) {
  const output = execFileSync('ldd', [join(modules, module)], { env: { ...process.env, LD_LIBRARY_PATH: join(root, 'usr', 'lib', 'syslog-ng') } }).toString();
  return output.split('\n').filter((line) => line.includes('not found')).map((line) => line.trim().split(' ')[0]);
}

function syslogNg(root) {
  const out = join(WORK, 'syslog-ng.log');
  const config = join(WORK, 'syslog-ng.conf');
  const modules = join(root, 'usr', 'lib', 'syslog-ng', readdirSync(join(root, 'usr', 'lib', 'syslog-ng')).find((name) => /^\d/.test(name)));
  // The network() source lives in the afsocket module, which needs libwrap.so.0 (Debian package libwrap0).
  const missing = missingLibraries(root, modules, 'libafsocket.so');
  if (missing.length > 0) throw new Error(`syslog-ng's afsocket module cannot load: ${missing.join(', ')} not found (apt-get install libwrap0, or run the peers' install.sh)`);
  // The options of the peers' reference config: threads, no DNS, flow control so TCP loses nothing.
  writeFileSync(config, `@version: 3.38
options { threaded(yes); use-dns(no); dns-cache(no); use-fqdn(no); keep-hostname(yes); chain-hostnames(no); stats-freq(0); mark-freq(0); };
source s_net { network(ip(127.0.0.1) transport(tcp) port(${PORTS.syslogng}) flags(syslog-protocol) log-iw-size(640000)); };
destination d_file { file("${out}" template("$HOST $PROGRAM $PID $MSG\\n")); };
log { source(s_net); destination(d_file); flags(flow-control); };
`);
  return {
    command: join(root, 'usr', 'sbin', 'syslog-ng'),
    args: ['-F', '-f', config, '-R', join(WORK, 'sng.persist'), '-p', join(WORK, 'sng.pid'), '-c', join(WORK, 'sng.ctl'), `--module-path=${modules}`],
    env: { LD_LIBRARY_PATH: join(root, 'usr', 'lib', 'syslog-ng') },
    port: PORTS.syslogng,
    count: () => countLines(out),
  };
}

/** Runs one receiver, turning a failure to set it up into a skipped row. */
async function run(name, setUp) {
  try {
    return await measure(name, setUp());
  } catch (error) {
    return { name, error: error.message };
  }
}

const results = [];
if (RECEIVERS.includes('watchpost')) results.push(await run('watchpost (parse + detection)', watchpost));
if (RECEIVERS.includes('rsyslog')) {
  if (existsSync('/usr/sbin/rsyslogd')) results.push(await run('rsyslog', rsyslog));
  else results.push({ name: 'rsyslog', error: 'not installed (apt-get install rsyslog)' });
}
if (RECEIVERS.includes('syslog-ng')) {
  const sngRoot = process.env.SYSLOG_NG_ROOT ?? '/tmp/watchpost-peers/syslog-ng/root';
  if (existsSync(join(sngRoot, 'usr', 'sbin', 'syslog-ng'))) results.push(await run('syslog-ng', () => syslogNg(sngRoot)));
  else results.push({ name: 'syslog-ng', error: `not found in ${sngRoot} (unpack syslog-ng-core with dpkg -x, set SYSLOG_NG_ROOT)` });
}
rmSync(WORK, { recursive: true, force: true });

console.log(`syslog over TCP, RFC 5424, ${SECONDS} s, one connection, loopback (${statSync('/proc/cpuinfo') && execFileSync('nproc').toString().trim()} CPUs)`);
console.log('receiver                        msg/s      sent   received   lost   CPU s per 1M msgs');
for (const result of results) {
  if (result.error) console.log(`${result.name.padEnd(30)}  skipped: ${result.error}`);
  else console.log(`${result.name.padEnd(30)} ${Math.round(result.rate).toString().padStart(7)} ${String(result.sent).padStart(9)} ${String(result.received).padStart(10)} ${String(result.loss).padStart(6)}   ${result.cpuPerMillion.toFixed(1)}`);
}
