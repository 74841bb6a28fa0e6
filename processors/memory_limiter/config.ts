import { duration, integer, number, object } from '../../core/config/schema.js';

export interface MemoryLimiterConfig {
  /** How often resident memory is measured, in milliseconds. Default 1 s. */
  check_interval: number;
  /** The hard limit on the process's resident set size, in MiB; 0 means use limit_percentage. Default 0. */
  limit_mib: number;
  /** How far below the hard limit the soft limit sits, in MiB; data is refused above the soft limit. 0 means 20% of the limit. Default 0. */
  spike_limit_mib: number;
  /** The hard limit as a percentage of the memory available (the cgroup limit, else the host's memory); 0 means use limit_mib. Default 0. */
  limit_percentage: number;
  /** The spike as a percentage of the memory available; 0 means 20% of the limit. Default 0. */
  spike_limit_percentage: number;
}

export function createDefaultConfig(): MemoryLimiterConfig {
  return { check_interval: 1000, limit_mib: 0, spike_limit_mib: 0, limit_percentage: 0, spike_limit_percentage: 0 };
}

export const schema = object({
  check_interval: duration({ min: 10 }),
  limit_mib: integer({ min: 0 }),
  spike_limit_mib: integer({ min: 0 }),
  limit_percentage: number({ min: 0, max: 100 }),
  spike_limit_percentage: number({ min: 0, max: 100 }),
});

export function validateConfig(config: MemoryLimiterConfig, report: (message: string, path?: string) => void): void {
  const byMib = config.limit_mib > 0;
  const byPercentage = config.limit_percentage > 0;
  if (byMib === byPercentage) {
    report('set exactly one of limit_mib and limit_percentage above 0');
    return;
  }
  if (byMib && config.spike_limit_mib >= config.limit_mib) report(`spike_limit_mib (${config.spike_limit_mib}) must be below limit_mib (${config.limit_mib})`, 'spike_limit_mib');
  if (byPercentage && config.spike_limit_percentage >= config.limit_percentage) report(`spike_limit_percentage (${config.spike_limit_percentage}) must be below limit_percentage (${config.limit_percentage})`, 'spike_limit_percentage');
}
