import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultHelperConfig } from '../../../exporters/helper/config.js';
import { AlertResolver } from '../../../exporters/helper/resolver.js';
import { SendError } from '../../../exporters/helper/errors.js';
import { ExporterHarness, fixtureFindings } from '../harness.js';

describe('AlertResolver', () => {
  let harness: ExporterHarness;
  let now: number;
  let resolved: string[];
  let resolver: AlertResolver;

  function create(resolve = async (fingerprint: string) => {
    resolved.push(fingerprint);
  }, maxOpen = 100): AlertResolver {
    return new AlertResolver({
      id: 'pagerduty',
      storage: harness.storage,
      logger: harness.log.logger,
      metrics: harness.metrics,
      maxOpen,
      resolve,
      retry: { ...defaultHelperConfig().retry_on_failure, initial_interval: 1, max_interval: 1, max_elapsed_time: 50 },
      timeout: 1000,
      tickMs: 3_600_000,
      now: () => now,
    });
  }

  beforeEach(() => {
    harness = new ExporterHarness();
    now = 1_000_000;
    resolved = [];
    resolver = create();
    resolver.start();
  });

  afterEach(async () => {
    await resolver.stop();
    await harness.close();
  });

  it('resolves an alert once its quiet period passed', async () => {
    const finding = fixtureFindings()[0];
    resolver.touch(finding, 60_000);

    now += 59_999;
    await resolver.resolveDue();
    expect(resolved).toEqual([]);

    now += 1;
    await resolver.resolveDue();
    expect(resolved).toEqual([finding.fingerprint]);
    expect(resolver.size).toBe(0);
  });

  it('postpones the resolve when the finding repeats', async () => {
    const finding = fixtureFindings()[0];
    resolver.touch(finding, 60_000);
    now += 50_000;
    resolver.touch(finding, 60_000);

    now += 50_000;
    await resolver.resolveDue();
    expect(resolved).toEqual([]);

    now += 10_000;
    await resolver.resolveDue();
    expect(resolved).toEqual([finding.fingerprint]);
  });

  it('keeps open alerts across a restart', async () => {
    const finding = fixtureFindings()[1];
    resolver.touch(finding, 60_000);
    await resolver.stop();
    await harness.storage.database('alert_state/pagerduty').flushed;

    resolver = create();
    resolver.start();
    now += 60_000;
    await resolver.resolveDue();

    expect(resolved).toEqual([finding.fingerprint]);
  });

  it('resolves the alert due soonest early past max_open_alerts', async () => {
    await resolver.stop();
    resolver = create(undefined, 2);
    resolver.start();
    const [first, second, third] = fixtureFindings();

    resolver.touch(first, 10_000);
    resolver.touch(second, 20_000);
    resolver.touch(third, 30_000);
    await new Promise((resolve) => setImmediate(resolve));

    expect(resolved).toEqual([first.fingerprint]);
  });

  it('counts a resolve that keeps failing and forgets the alert', async () => {
    await resolver.stop();
    resolver = create(async () => {
      throw new SendError('server answered HTTP 503', { retryable: true, status: 503 });
    });
    resolver.start();
    resolver.touch(fixtureFindings()[0], 1000);

    now += 1000;
    await resolver.resolveDue();

    expect(harness.metric('watchpost_exporter_alert_resolves_total', { exporter: 'pagerduty', outcome: 'failed' })).toBe(1);
    expect(resolver.size).toBe(0);
    expect(harness.log.lines.some((line) => line.msg === 'cannot resolve an alert; it stays open at the destination')).toBe(true);
  });
});
