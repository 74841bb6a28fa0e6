import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDirectory } from './tmp.js';
import { waitFor } from './wait.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'core', 'cli', 'main.ts');
/** tsx's loader by absolute URL, because the daemon runs in a temporary directory outside the project. */
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface LogLine {
  level: number;
  msg: string;
  component?: string;
  id?: string;
  endpoint?: string;
  [key: string]: unknown;
}

/**
 * Watchpost as a child process, run from the TypeScript sources with tsx, in its own temporary
 * working directory. Configs should listen on port 0; `endpoint(id)` reads the bound address
 * from the daemon's "listening" log line.
 */
export class Daemon {
  readonly logs: LogLine[] = [];
  stderr = '';
  private exitCode: number | null | undefined;

  private constructor(readonly directory: string, private readonly child: ChildProcess, private cleanupDirectory: () => void, private readonly env: NodeJS.ProcessEnv) {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 0, msg: line });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    child.on('exit', (code) => {
      this.exitCode = code;
    });
  }

  /**
   * Writes the config into a fresh directory (or into `directory`, which the caller then removes)
   * and starts the daemon there; resolves once it logged "ready".
   */
  static async start(config: string, options: { env?: NodeJS.ProcessEnv; files?: Record<string, string>; directory?: string } = {}): Promise<Daemon> {
    const directory = options.directory ? { path: options.directory, cleanup: () => undefined } : tempDirectory('watchpost-daemon-');
    writeFileSync(join(directory.path, 'config.yaml'), config);
    for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(directory.path, name), content);
    return Daemon.spawnIn(directory.path, directory.cleanup, { ...process.env, ...options.env });
  }

  /**
   * Starts the daemon again in the same directory with the same config and environment, after
   * this one exited (such as after `stop('SIGKILL')`). The new daemon owns the directory: dispose
   * that one, not this.
   */
  async restart(): Promise<Daemon> {
    if (this.exitCode === undefined) throw new Error('restart needs the daemon to have exited');
    const cleanup = this.cleanupDirectory;
    this.cleanupDirectory = () => undefined;
    return Daemon.spawnIn(this.directory, cleanup, this.env);
  }

  private static async spawnIn(directory: string, cleanup: () => void, env: NodeJS.ProcessEnv): Promise<Daemon> {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'run', '--config', 'config.yaml'], {
      cwd: directory,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const daemon = new Daemon(directory, child, cleanup, env);
    await waitFor(() => {
      if (daemon.exitCode !== undefined) throw new Error(`daemon exited with ${daemon.exitCode}: ${daemon.stderr}${daemon.logs.map((line) => line.msg).join('\n')}`);
      return daemon.logs.some((line) => line.msg === 'ready');
    }, 30_000, 'the daemon to start');
    return daemon;
  }

  /** The bound address a component logged, such as `127.0.0.1:43117`. */
  endpoint(id: string): string {
    const line = this.logs.find((entry) => (entry.id === id || entry.component === id) && typeof entry.endpoint === 'string');
    if (!line) throw new Error(`component ${id} logged no endpoint`);
    return line.endpoint as string;
  }

  path(name: string): string {
    return join(this.directory, name);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a signal and waits for the process to exit; returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === undefined) {
      this.child.kill(signal);
      await waitFor(() => this.exitCode !== undefined, 20_000, 'the daemon to exit');
    }
    return this.exitCode ?? null;
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL').catch(() => undefined);
    this.cleanupDirectory();
  }
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
