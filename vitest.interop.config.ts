import { defineConfig } from 'vitest/config';

/** Tests against real peers from Debian's packages (rsyslog, CrowdSec, nginx); `.ci/run` installs them first. */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    passWithNoTests: true,
    fileParallelism: false,
  },
});
