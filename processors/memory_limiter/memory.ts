import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MemoryLimiterConfig } from './config.js';

const MIB = 1024 * 1024;

/**
 * Returns the memory a limit in percent refers to, in bytes: the cgroup v2 or v1 limit of the
 * container when one is set, else the host's total memory.
 */
export function availableMemory(readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): number {
  const host = totalmem();
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFile(path).trim();
    } catch {
      continue;
    }
    const limit = Number(text);
    // cgroup v2 writes "max" without a limit; v1 writes a number near 2^63.
    if (Number.isFinite(limit) && limit > 0 && limit < host) return limit;
  }
  return host;
}

export interface Limits {
  /** Above this resident set size, in bytes, data is refused and a collection forced. */
  hard: number;
  /** Above this one data is refused. */
  soft: number;
}

export function limitsFor(config: MemoryLimiterConfig, available: () => number = availableMemory): Limits {
  if (config.limit_mib > 0) {
    const hard = config.limit_mib * MIB;
    const spike = config.spike_limit_mib > 0 ? config.spike_limit_mib * MIB : hard / 5;
    return { hard, soft: hard - spike };
  }
  const total = available();
  const hard = (total * config.limit_percentage) / 100;
  const spike = config.spike_limit_percentage > 0 ? (total * config.spike_limit_percentage) / 100 : hard / 5;
  return { hard, soft: hard - spike };
}

let gcFunction: (() => void) | undefined;

/**
 * Returns a function that runs a full garbage collection of the main thread's heap. Node hides
 * `gc` unless started with --expose-gc, so the flag is set at run time and the function taken
 * from a fresh V8 context, where it exists. Worker threads' heaps are not collected by it.
 */
export function forcedGc(): () => void {
  if (!gcFunction) {
    const global = globalThis as { gc?: () => void };
    if (typeof global.gc === 'function') gcFunction = global.gc;
    else {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    }
  }
  return gcFunction;
}

/** The process's resident set size in bytes, main thread and workers together. */
export function residentSetSize(): number {
  return process.memoryUsage.rss();
}

/**
 * An estimate of the memory in use, in bytes: the resident set size at start plus what the main
 * thread's live heap objects and buffers grew by since. After a collection, the resident set size can stay high because the allocator keeps freed
 * memory for reuse. New data fills that memory first, so it should not count against the limit.
 * NOTE: growth of the worker threads' heaps is not in this estimate; their tasks are bounded by
 * the pool queue.
 */
export function liveMemoryEstimator(): () => number {
  const start = process.memoryUsage();
  const startLive = start.heapUsed + start.external;
  return () => {
    const usage = process.memoryUsage();
    return start.rss + Math.max(0, usage.heapUsed + usage.external - startLive);
  };
}
