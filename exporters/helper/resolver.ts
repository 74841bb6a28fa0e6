import type { Finding } from '../../core/data/finding.js';
import type { Logger } from '../../core/logger.js';
import type { Database, Storage } from '../../core/storage/storage.js';
import type { Counter, PipelineMetrics } from '../../core/telemetry/metrics.js';
import { errorMessage } from '../../core/errors.js';
import type { RetryConfig } from './config.js';
import { findingSummary } from './finding-text.js';
import { callWithRetry } from './retry.js';

/** An alert that was triggered and waits for its quiet period to end. */
export interface OpenAlert {
  /** When the alert resolves unless another finding with its fingerprint arrives, in milliseconds since the epoch. */
  resolve_at: number;
  /** The summary of the last finding, for the resolve message. */
  summary: string;
}

export interface AlertResolverOptions {
  /** The exporter id; open alerts are stored under `alert_state/<id>`. */
  id: string;
  /** When given, open alerts survive a restart; without it they live in memory only. */
  storage?: Storage;
  logger: Logger;
  metrics: PipelineMetrics;
  /** Open alerts tracked at most; past it the alert with the earliest resolve time is resolved at once. */
  maxOpen: number;
  /** Sends the resolve (or close) for one fingerprint; throws a SendError on failure. */
  resolve: (fingerprint: string, alert: OpenAlert, signal: AbortSignal) => Promise<void>;
  retry: RetryConfig;
  /** Per-attempt timeout in milliseconds. */
  timeout: number;
  /** How often due alerts are looked for, in milliseconds. Default 1000. */
  tickMs?: number;
  now?: () => number;
}

/**
 * Resolves alerts whose findings went quiet: every finding with a fingerprint (re)opens the
 * alert until one quiet period after it, and when that time passes without another finding the
 * resolve is sent, with the exporter's retry settings. This is how PagerDuty incidents and
 * Opsgenie alerts close when an attack stops. Open alerts are kept in lmdb when storage is given,
 * so a restart does not leave them open forever.
 */
export class AlertResolver {
  private readonly open = new Map<string, OpenAlert>();
  private readonly resolving = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopController = new AbortController();
  private readonly database: Database<OpenAlert, string> | undefined;
  private readonly now: () => number;
  private readonly outcomes: Counter;
  private timer: NodeJS.Timeout | undefined;
  private writeFailures = 0;

  constructor(private readonly options: AlertResolverOptions) {
    this.now = options.now ?? Date.now;
    this.database = options.storage?.database<OpenAlert, string>(`alert_state/${options.id}`);
    this.outcomes = options.metrics.registry.counter('watchpost_exporter_alert_resolves_total', 'Alerts an exporter resolved after their findings went quiet, by outcome.');
  }

  /** Loads the open alerts of an earlier run and starts looking for due ones. */
  start(): void {
    if (this.database) {
      for (const { key, value } of this.database.getRange()) this.open.set(key, value);
      if (this.open.size > 0) this.options.logger.info({ alerts: this.open.size }, 'resuming open alerts from disk');
    }
    this.timer = setInterval(() => this.resolveDue(), this.options.tickMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Opens or extends the alert of a finding until `quietMs` after now. The alert is written to
   * lmdb without waiting for the disk, because a lost write only means an alert that a crash left
   * open stays open, and waiting would add a disk flush to the delivery of every finding.
   */
  touch(finding: Finding, quietMs: number): void {
    const alert: OpenAlert = { resolve_at: this.now() + quietMs, summary: findingSummary(finding) };
    this.open.delete(finding.fingerprint);
    this.open.set(finding.fingerprint, alert);
    this.evictOverflow();
    this.database?.put(finding.fingerprint, alert).catch((error: unknown) => this.writeFailed(error));
  }

  private writeFailed(error: unknown): void {
    if (this.writeFailures++ === 0) this.options.logger.error({ err: errorMessage(error) }, 'cannot store open alerts; a restart will not resolve them');
  }

  /** Open alerts, for tests and health. */
  get size(): number {
    return this.open.size;
  }

  /** Starts the resolve of every alert whose time has come; returns when those resolves ended. */
  async resolveDue(): Promise<void> {
    const now = this.now();
    const started: Promise<void>[] = [];
    for (const [fingerprint, alert] of this.open) {
      if (alert.resolve_at <= now && !this.resolving.has(fingerprint)) started.push(this.startResolve(fingerprint, alert));
    }
    await Promise.all(started);
  }

  /** Stops the timer and waits for resolves in flight; open alerts stay stored. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopController.abort();
    await Promise.all([...this.inFlight]);
  }

  private startResolve(fingerprint: string, alert: OpenAlert): Promise<void> {
    this.resolving.add(fingerprint);
    const task = this.sendResolve(fingerprint, alert).finally(() => {
      this.resolving.delete(fingerprint);
      this.inFlight.delete(task);
    });
    this.inFlight.add(task);
    return task;
  }

  private async sendResolve(fingerprint: string, alert: OpenAlert): Promise<void> {
    const failure = await callWithRetry((signal) => this.options.resolve(fingerprint, alert, signal), {
      retry: this.options.retry,
      timeout: this.options.timeout,
      stop: this.stopController.signal,
    });
    if (failure?.reason === 'shutdown') return;
    // A finding that arrived during the resolve reopened the alert with a later time; keep that one.
    if (this.open.get(fingerprint) === alert) {
      this.open.delete(fingerprint);
      await this.database?.remove(fingerprint);
    }
    if (!failure) {
      this.outcomes.add({ exporter: this.options.id, outcome: 'resolved' });
      return;
    }
    this.outcomes.add({ exporter: this.options.id, outcome: 'failed' });
    this.options.logger.error({ err: errorMessage(failure.error), fingerprint, reason: failure.reason }, 'cannot resolve an alert; it stays open at the destination');
  }

  /** Resolves the alerts due soonest at once while more than `maxOpen` wait, so memory stays bounded. */
  private evictOverflow(): void {
    while (this.open.size - this.resolving.size > this.options.maxOpen) {
      let earliest: [string, OpenAlert] | undefined;
      for (const entry of this.open) {
        if (this.resolving.has(entry[0])) continue;
        if (!earliest || entry[1].resolve_at < earliest[1].resolve_at) earliest = entry;
      }
      if (!earliest) return;
      // Resolving early loses nothing: a later finding with the fingerprint opens the alert again.
      void this.startResolve(earliest[0], earliest[1]);
    }
  }
}
