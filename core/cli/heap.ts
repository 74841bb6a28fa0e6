import { spawn } from 'node:child_process';

/*
 * `replay` and `parse` make many short-lived objects per line (fields, records, matches). With
 * V8's default semi-spaces of 16 MiB, a replay's main thread spent about a quarter of its time in
 * young-generation collections, and the main thread bounds its rate. Semi-spaces are sized when
 * the heap is set up, so these commands run again in a child process with larger ones, unless the
 * user chose a size (in the node arguments or NODE_OPTIONS). Worker threads inherit the setting.
 */

/** Semi-space size for batch commands, in MiB. In `npm run bench:gateway` on 2 vCPUs, 64 gave about 15% more lines per second than V8's default. */
export const BATCH_SEMI_SPACE_MIB = 64;

const FLAG = '--max-semi-space-size';

/** Reports whether the process already runs with a semi-space size the user chose. */
export function semiSpaceChosen(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((argument) => argument.startsWith(FLAG)) || (nodeOptions ?? '').split(/\s+/).some((option) => option.startsWith(FLAG));
}

/**
 * Runs this command again in a child process with larger semi-spaces and resolves to the child's
 * exit code. Returns undefined when the current process should run the command itself.
 */
export function rerunWithLargerYoungGeneration(): Promise<number> | undefined {
  if (semiSpaceChosen(process.execArgv, process.env.NODE_OPTIONS)) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, `${FLAG}=${BATCH_SEMI_SPACE_MIB}`, ...process.argv.slice(1)], { stdio: 'inherit' });
  // A terminal's Ctrl-C reaches both processes; a signal sent to this one alone is passed on.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const name of signals) process.off(name, forward);
      resolve(code ?? 128 + signalNumber(signal));
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 1;
}
