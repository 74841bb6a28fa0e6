import type { Signal } from '../../core/data/signal.js';
import type { PipelineMetrics } from '../../core/telemetry/metrics.js';

/** The metrics of one exporter, with its id bound into every label set. */
export interface ExporterMetrics {
  trackQueue(size: () => number, capacity: number): void;
  sent(signal: Signal, items: number): void;
  /**
   * Items dropped for good: counted in `watchpost_exporter_send_failed_items_total` and, by reason
   * (permanent_error, retries_exhausted, shutdown, rate_limited), in
   * `watchpost_exporter_dropped_items_total`.
   */
  sendFailed(signal: Signal, reason: string, items: number): void;
  enqueueFailed(signal: Signal, items: number): void;
  /** Items the exporter does not send by its configuration, such as findings below `min_severity`. */
  filtered(signal: Signal, items: number): void;
}

export function exporterMetrics(metrics: PipelineMetrics, id: string): ExporterMetrics {
  const filtered = metrics.registry.counter('watchpost_exporter_filtered_items_total', 'Items an exporter left out by its configuration, such as findings below its minimum severity.');
  const dropped = metrics.registry.counter('watchpost_exporter_dropped_items_total', 'Items an exporter dropped for good, by reason.');
  return {
    trackQueue(size, capacity) {
      metrics.exporterQueueSize.track({ exporter: id }, size);
      metrics.exporterQueueCapacity.set({ exporter: id }, capacity);
    },
    sent: (signal, items) => metrics.exporterSent.add({ exporter: id, signal }, items),
    sendFailed: (signal, reason, items) => {
      metrics.exporterSendFailed.add({ exporter: id, signal }, items);
      dropped.add({ exporter: id, signal, reason }, items);
    },
    enqueueFailed: (signal, items) => metrics.exporterEnqueueFailed.add({ exporter: id, signal }, items),
    filtered: (signal, items) => filtered.add({ exporter: id, signal }, items),
  };
}
