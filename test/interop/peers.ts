import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { waitFor } from '../helpers/wait.js';

/** Fails with a message naming the Debian package when a peer program is missing. */
export function requireProgram(program: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`${program} is not installed; install the Debian package ${debianPackage} (.ci/run does)`);
  return path;
}

/** Fails with a message naming the Debian package when it is not installed. */
export function requirePackage(debianPackage: string): void {
  const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', debianPackage], { encoding: 'utf8' });
  if (status.status !== 0 || !status.stdout.includes('install ok installed')) {
    throw new Error(`the Debian package ${debianPackage} is not installed (.ci/run installs it)`);
  }
}

/** Returns a port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export function waitForListener(port: number, timeoutMs = 15_000): Promise<true> {
  return waitFor(() => new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  }), timeoutMs, `a listener on port ${port}`);
}

/** A peer program run in the foreground, with its output kept for error messages. */
export class PeerProcess {
  output = '';
  exitCode: number | null | undefined;
  private readonly child: ChildProcess;

  constructor(program: string, args: string[], options: { cwd?: string } = {}) {
    this.child = spawn(program, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString('utf8'); });
    this.child.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString('utf8'); });
    this.child.on('exit', (code) => { this.exitCode = code; });
  }

  /** Stops the process by its pid and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    await waitFor(() => this.exitCode !== undefined, 10_000, 'the peer to exit').catch(() => this.child.kill('SIGKILL'));
  }
}
