#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { builtinRegistry } from './builtins.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { formatIssue } from '../config/node.js';
import { createLogger } from '../logger.js';
import { Service } from '../service.js';
import { packageRoot } from '../paths.js';
import { errorMessage } from '../errors.js';
import { knownFormats, replay, type ReplaySummary } from './replay.js';
import { parseFiles } from './parse.js';
import { writeDemoLog } from './demo.js';
import { testRules } from './test-rules.js';
import { rerunWithLargerYoungGeneration } from './heap.js';

const USAGE = `usage: watchpost <command> [options]

commands:
  run [--config FILE]                      run the daemon (default: the built-in configs/default.yaml)
  validate --config FILE                   check a config and list every error; exit 1 when any
  components                               list the built-in receivers, processors and exporters
  parse --format FORMAT [--option KEY=VALUE]... FILE...
                                           print one OTLP/JSON log record per line of each FILE
                                           (- for standard input); --option sets a format option
                                           such as log_format, trusted_proxies or timezone
  parse --config FILE --receiver ID FILE...
                                           the same with a configured receiver's format and options
  replay --format FORMAT [--option KEY=VALUE]... [--config FILE] [--threads N] FILE...
  replay --config FILE --receiver ID [--threads N] FILE...
                                           run files through parsing and the processors of the
                                           config's first logs pipeline (default: detection with the
                                           built-in rules) on event time; findings as JSON lines on
                                           stdout, progress and a summary on stderr
  test-rules [--config FILE] [--rules PATH]...
                                           run the tests written next to detection rules
  demo-log [--out FILE] [--if-missing]     write a small access log with benign and attack traffic
`;

const registry = builtinRegistry();

function defaultConfigPath(): string {
  return join(packageRoot(), 'configs', 'default.yaml');
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  const file = values.config ?? defaultConfigPath();
  const config = loadConfigFile(file, registry);
  const logger = createLogger({ level: config.service.telemetry.logs.level });
  const service = new Service(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting without waiting for shutdown');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service.shutdown().then(() => process.exit(0), (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  try {
    await service.start();
  } catch (error) {
    logger.fatal({ err: errorMessage(error) }, 'failed to start');
    return 1;
  }
  logger.info({ config: file, admin: service.adminAddress() }, 'ready');
  return new Promise<number>(() => undefined);
}

function validate(args: string[]): number {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (!values.config) throw new UsageError('validate needs --config FILE');
  try {
    const config = loadConfigFile(values.config, registry);
    process.stdout.write(`${values.config}: valid (${config.pipelines.size} pipeline(s))\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${values.config}: ${error.issues.length} error(s)\n`);
    for (const issue of error.issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
    return 1;
  }
}

function components(): number {
  for (const kind of ['receiver', 'processor', 'exporter', 'extension'] as const) {
    const factories = registry.all().filter((factory) => factory.kind === kind);
    if (factories.length === 0) continue;
    process.stdout.write(`${kind}s:\n`);
    for (const factory of factories) {
      process.stdout.write(`  ${factory.type.padEnd(22)} ${factory.signals.join(', ').padEnd(32)} ${factory.description}\n`);
    }
  }
  process.stdout.write(`formats (parse, replay): ${knownFormats(registry).join(', ')}\n`);
  return 0;
}

const PARSER_OPTIONS = {
  format: { type: 'string' },
  option: { type: 'string', multiple: true },
  config: { type: 'string' },
  receiver: { type: 'string' },
} as const;

async function parseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: PARSER_OPTIONS });
  if ((!values.format && !values.receiver) || positionals.length === 0) throw new UsageError('parse needs --format FORMAT (or --config FILE --receiver ID) and at least one FILE');
  const config = values.config ? loadConfigFile(values.config, registry) : undefined;
  const counts = await parseFiles(registry, { format: values.format, options: values.option, receiver: values.receiver, config }, positionals, process.stdout);
  process.stderr.write(`${counts.records} record(s), ${counts.failed} not parsed\n`);
  return 0;
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...PARSER_OPTIONS, threads: { type: 'string' } } });
  if ((!values.format && !values.receiver) || positionals.length === 0) throw new UsageError('replay needs --format FORMAT (or --config FILE --receiver ID) and at least one FILE');
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) throw new UsageError(`--threads must be a whole number of at least 0, got ${JSON.stringify(values.threads)}`);
  const config = values.config ? loadConfigFile(values.config, registry) : undefined;
  const summary = await replay({
    format: values.format,
    options: values.option,
    receiver: values.receiver,
    files: positionals,
    config,
    registry,
    output: process.stdout,
    status: process.stderr,
    threads,
  });
  printSummary(summary);
  return 0;
}

function printSummary(summary: ReplaySummary): void {
  const rate = summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : summary.lines;
  process.stderr.write(`lines read: ${summary.lines}, parsed: ${summary.parsed}, failed: ${summary.failed}, in ${summary.seconds.toFixed(2)} s (${rate} lines/s)\n`);
  const rules = Object.entries(summary.findings).sort(([a], [b]) => a.localeCompare(b));
  // Standard output also carries the `update` of each finding whose suppression period ended; those are not counted.
  process.stderr.write(`new findings: ${rules.reduce((total, [, count]) => total + count, 0)}\n`);
  for (const [rule, count] of rules) process.stderr.write(`  ${rule.padEnd(28)} ${count}\n`);
}

async function testRulesCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, rules: { type: 'string', multiple: true } } });
  const config = values.config ? loadConfigFile(values.config, registry) : undefined;
  const report = testRules({ registry, config, rulePaths: values.rules });
  for (const line of report.lines) process.stdout.write(`${line}\n`);
  process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
  return report.failed === 0 ? 0 : 1;
}

async function demoLog(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, 'if-missing': { type: 'boolean' } } });
  const out = values.out ?? 'data/demo/access.log';
  const written = writeDemoLog(out, { ifMissing: values['if-missing'] === true });
  process.stderr.write(written ? `wrote ${written} lines to ${out}\n` : `${out} exists; left as it is\n`);
  return 0;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'run': return run(args);
    case 'validate': return validate(args);
    case 'components': return components();
    case 'parse': return rerunWithLargerYoungGeneration() ?? parseCommand(args);
    case 'replay': return rerunWithLargerYoungGeneration() ?? replayCommand(args);
    case 'test-rules': return testRulesCommand(args);
    case 'demo-log': return demoLog(args);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

// A reader that goes away (`watchpost parse … | head`) ends the output, which is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`watchpost: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`watchpost: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`watchpost: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  }
});
