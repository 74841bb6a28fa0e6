import { randomBytes } from 'node:crypto';
import type { Consumer, Host, Processor, ProcessorFactory, ProcessorSettings, SharedComponent, SharedSettings } from '../../core/component.js';
import { FindingsBatch, type Batch } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import type { StageSpec } from '../../core/pool/pool.js';
import { errorMessage, retryableError } from '../../core/errors.js';
import { resendOf, type Resend } from '../../core/pipeline/fanout.js';
import type { Gauge } from '../../core/telemetry/metrics.js';
import { withTimeout } from '../../core/timeout.js';
import { formatIssue } from '../../core/config/node.js';
import { parseCidr } from '../../core/cidr.js';
import { createDefaultConfig, schema, type DetectionConfig } from './config.js';
import { DetectionEngine } from './engine.js';
import { loadRules, RuleLoadError } from './rules/load.js';
import type { RuleSet } from './rules/types.js';
import type { ApiSpecDocument } from './openapi.js';
import { ApiSpecError, loadApiSpec } from './openapi-load.js';
import { StateStore } from './persist.js';
import type { DetectionStageOptions, DetectionStageResult, EventMatch } from './worker.js';
import { unpackMatches } from './matches.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/** How often suppression periods are checked against the wall clock, in milliseconds. */
const ADVANCE_INTERVAL_MS = 1000;
/** Findings held for another delivery attempt after the findings pipelines rejected them (full queues). */
const MAX_HELD_FINDINGS = 10_000;
/** How long shutdown waits for held findings to be taken before it drops and counts them. */
const SHUTDOWN_RETRY_MS = 5000;

/** Findings waiting for another attempt, and how to reach only the exporters that rejected them. */
interface HeldFindings {
  findings: Finding[];
  resend: Resend | undefined;
}

const loadedRules = new WeakMap<DetectionConfig, RuleSet>();
const stageOptions = new WeakMap<DetectionConfig, DetectionStageOptions>();

/** Loads (once per config object) the rules a detection config names. */
export function rulesFor(config: DetectionConfig): RuleSet {
  let rules = loadedRules.get(config);
  if (!rules) {
    rules = loadRules(config.rules, config.disable);
    loadedRules.set(config, rules);
  }
  return rules;
}

/** Reads the configured OpenAPI document; undefined when none is configured. */
function apiSpecFor(config: DetectionConfig): ApiSpecDocument | undefined {
  return config.openapi ? loadApiSpec(config.openapi) : undefined;
}

/**
 * Builds the worker stage's options for a config, once per config object, so that every worker
 * and every restart of the pool uses the same API-key hash key.
 */
export function stageOptionsFor(config: DetectionConfig): DetectionStageOptions {
  let options = stageOptions.get(config);
  if (!options) {
    options = {
      rules: rulesFor(config),
      markAttribute: config.mark_attribute,
      trustedProxies: config.trusted_proxies,
      identitySources: config.identity.sources,
      apiKeyHeaders: config.identity.api_key_headers,
      apiKeyQueryParameters: config.identity.api_key_query_parameters,
      apiKeyHashKey: config.identity.api_key_hash_key || randomBytes(32).toString('hex'),
      jwtMaxLifetimeMs: config.jwt_max_lifetime,
      apiSpec: apiSpecFor(config),
    };
    stageOptions.set(config, options);
  }
  return options;
}

/** The detection state shared by every pipeline that runs one detection processor id. */
class DetectionShared implements SharedComponent<DetectionShared> {
  readonly value = this;
  readonly engine: DetectionEngine;
  private readonly store: StateStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private host: Host | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Collects the deliveries started while `process` runs the engine. */
  private collecting: Promise<void>[] | undefined;
  private failures = 0;
  private stopped = false;
  /** Findings the findings pipelines rejected, in order, sent again each second until they are accepted. */
  private held: HeldFindings[] = [];
  private heldCount = 0;
  private readonly heldGauge: Gauge;
  /** The retry of held findings that is running, if any. */
  private retrying: Promise<void> | undefined;

  constructor(private readonly settings: SharedSettings<DetectionConfig>) {
    const rules = rulesFor(settings.config);
    const evictions = settings.metrics.registry.counter('watchpost_detection_state_evictions_total', 'Trigger and finding state evicted because a rule tracked too many keys.');
    this.heldGauge = settings.metrics.registry.gauge('watchpost_detection_findings_held', 'Findings held after the findings pipelines rejected them, waiting for another attempt.');
    this.engine = new DetectionEngine({
      rules: rules.rules,
      source: settings.id,
      maxKeysPerRule: settings.config.max_keys_per_rule,
      emit: (findings) => this.send(findings),
      logger: settings.logger,
      findingsEmitted: settings.metrics.findingsEmitted,
      evictions,
    });
    if (settings.config.state.persist) this.store = new StateStore(settings.storage, settings.id, settings.logger);
    settings.logger.info({ rules: rules.rules.length }, 'detection rules loaded');
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    const snapshot = this.store?.load();
    if (snapshot) {
      const keys = this.engine.restore(snapshot);
      this.settings.logger.info({ keys, saved_until: new Date(snapshot.watermark).toISOString() }, 'detection state restored');
    }
    this.timer = setInterval(() => {
      // Held findings go first, and updates that advance() emits while some are held queue behind them.
      void this.retryHeld();
      this.engine.advance();
    }, ADVANCE_INTERVAL_MS);
    this.timer.unref();
    const interval = this.settings.config.state.save_interval;
    if (this.store && interval > 0) {
      this.saveTimer = setInterval(() => this.save(), interval);
      this.saveTimer.unref();
    }
  }

  /**
   * Emits pending finding updates, saves the state, and waits until the findings pipelines took
   * the last findings. Without persistence, active findings end here instead.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.saveTimer);
    this.timer = undefined;
    this.saveTimer = undefined;
    if (this.store) {
      this.engine.emitPendingUpdates();
      this.save();
    } else {
      this.engine.flush();
    }
    await Promise.allSettled([...this.inFlight]);
    // Waits for a retry the timer started, then tries once more. An exporter without a queue may
    // retry for minutes, so the wait is bounded.
    await withTimeout((async () => {
      await this.retrying;
      await this.retryHeld();
    })(), SHUTDOWN_RETRY_MS);
    for (const entry of this.held) this.drop(entry.findings, new Error('shutdown came before the findings pipelines accepted them'));
    this.held = [];
    this.heldCount = 0;
    this.heldGauge.set({ processor: this.settings.id }, 0);
  }

  /**
   * Runs the engine on one batch's matches and returns a promise for the delivery of the findings
   * they raised. The processor waits for it before its consume() resolves, so a receiver
   * acknowledges a request only after the findings it caused are queued by every findings
   * exporter (on disk, for a persistent queue). The promise never rejects: a rejected delivery is
   * counted and logged in `send`.
   */
  process(matches: EventMatch[]): Promise<void> {
    const deliveries: Promise<void>[] = [];
    this.collecting = deliveries;
    try {
      this.engine.process(matches);
    } finally {
      this.collecting = undefined;
    }
    return Promise.all(deliveries).then(() => undefined);
  }

  private save(): void {
    try {
      this.store?.save(this.engine.snapshot());
    } catch (error) {
      this.settings.logger.error({ err: errorMessage(error) }, 'saving detection state failed; a restart loses windows since the last save');
    }
  }

  /**
   * Hands findings to the findings pipelines. When they reject them (a full queue), the findings
   * are held and sent again each second. The request that raised them fails with the same
   * retryable error, so its sender retries instead of seeing an acknowledgement. Findings past
   * MAX_HELD_FINDINGS are dropped and counted.
   */
  private send(findings: Finding[]): void {
    this.host?.findingsBus.publish(findings);
    const output: Consumer | undefined = this.settings.outputs.findings;
    if (!output) return;
    if (this.held.length > 0) {
      // Older findings wait for a full queue; these queue behind them, so that no update overtakes its finding.
      const rejection = retryableError('WP_ERR_EXPORTER_QUEUE_FULL', 'findings wait for a full exporter queue; retry later');
      this.hold(findings, rejection, undefined);
      this.collecting?.push(Promise.reject(rejection));
      return;
    }
    // Resolves with the rejection, if any, so that a delivery no request waits for never rejects unhandled.
    const delivery: Promise<{ rejection: unknown } | undefined> = output.consume(new FindingsBatch(findings, { receiver: this.settings.id })).then(
      () => undefined,
      (error: unknown) => {
        this.hold(findings, error, resendOf(error));
        return { rejection: error };
      },
    );
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    this.collecting?.push(delivery.then((outcome) => {
      if (outcome) throw outcome.rejection;
    }));
  }

  /** Keeps findings for another attempt; `resend` reaches only the exporters that rejected them. */
  private hold(findings: Finding[], error: unknown, resend: Resend | undefined): void {
    if (this.stopped || this.heldCount + findings.length > MAX_HELD_FINDINGS) {
      this.drop(findings, error);
      return;
    }
    this.held.push({ findings, resend });
    this.heldCount += findings.length;
    this.heldGauge.set({ processor: this.settings.id }, this.heldCount);
    if (this.held.length === 1) this.settings.logger.warn({ err: errorMessage(error) }, 'findings pipeline rejected findings; holding them for another attempt');
  }

  private drop(findings: Finding[], error: unknown): void {
    this.failures += findings.length;
    this.settings.metrics.processorDropped.add({ processor: this.settings.id, signal: 'findings', reason: 'findings_pipeline_refused' }, findings.length);
    this.settings.logger.error({ err: errorMessage(error), dropped_total: this.failures }, 'findings pipeline rejected findings; dropped them');
  }

  /** Sends the held findings again, unless a retry is running already; returns that retry. */
  private retryHeld(): Promise<void> {
    this.retrying ??= this.sendHeld().finally(() => {
      this.retrying = undefined;
    });
    return this.retrying;
  }

  /** Sends the held findings, oldest first, and stops at the first rejection. */
  private async sendHeld(): Promise<void> {
    const output: Consumer | undefined = this.settings.outputs.findings;
    if (!output || this.held.length === 0) return;
    while (this.held.length > 0) {
      const entry = this.held[0];
      try {
        if (entry.resend) await entry.resend();
        else await output.consume(new FindingsBatch(entry.findings, { receiver: this.settings.id }));
      } catch (error) {
        // The exporters that took the findings this time are left out of the next attempt.
        entry.resend = resendOf(error) ?? entry.resend;
        return;
      }
      this.held.shift();
      this.heldCount -= entry.findings.length;
      this.heldGauge.set({ processor: this.settings.id }, this.heldCount);
    }
    this.settings.logger.info('findings pipeline accepted the held findings');
  }
}

class DetectionProcessor implements Processor {
  constructor(private readonly settings: ProcessorSettings<DetectionConfig, DetectionShared>) {}

  async start(_host: Host): Promise<void> {}

  async shutdown(): Promise<void> {}

  async consume(batch: Batch): Promise<void> {
    if (batch.signal === 'traces' || batch.signal === 'logs') {
      let result = batch.analysisFor<DetectionStageResult>(this.settings.id);
      let marked = result ? batch.markedBytes : undefined;
      if (!result) {
        const ingested = await this.settings.pool.ingest({
          signal: batch.signal,
          payload: { kind: 'otlp_protobuf', bytes: batch.toBytes() },
          stages: [this.settings.id],
        });
        result = ingested.stages[this.settings.id] as DetectionStageResult;
        marked = ingested.markedBytes;
      }
      if (marked) batch.replaceBytes(marked, batch.itemCount);
      const delivered = this.settings.shared.process(unpackMatches(result.matches));
      this.settings.metrics.processorOutgoing.add({ processor: this.settings.id, signal: batch.signal }, batch.itemCount);
      await Promise.all([this.settings.next.consume(batch), delivered]);
      return;
    }
    this.settings.metrics.processorOutgoing.add({ processor: this.settings.id, signal: batch.signal }, batch.itemCount);
    await this.settings.next.consume(batch);
  }
}

export const detectionProcessorFactory: ProcessorFactory<DetectionConfig, DetectionShared> = {
  kind: 'processor',
  type: 'detection',
  description: 'Detects attacks and abuse in HTTP spans and access logs with YAML rules; emits findings.',
  signals: ['traces', 'logs'],
  emits: ['findings'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  validate(config, report) {
    try {
      rulesFor(config);
    } catch (error) {
      if (error instanceof RuleLoadError) for (const issue of error.issues) report(formatIssue(issue), 'rules');
      else report(errorMessage(error), 'rules');
    }
    if (config.openapi) {
      try {
        apiSpecFor(config);
      } catch (error) {
        if (error instanceof ApiSpecError) for (const issue of error.issues) report(formatIssue(issue), 'openapi');
        else report(`cannot read the OpenAPI document ${config.openapi}: ${errorMessage(error)}`, 'openapi');
      }
    }
    for (const range of config.trusted_proxies) if (!parseCidr(range)) report(`invalid address range "${range}"`, 'trusted_proxies');
  },
  workerStage(id, config): StageSpec {
    return { id, kind: 'detection', module: WORKER_MODULE, options: stageOptionsFor(config) };
  },
  createShared: (settings) => new DetectionShared(settings),
  create: (settings) => new DetectionProcessor(settings),
};
