/**
 * The daemon's own metrics, served in the Prometheus text format on the admin endpoint.
 * A deliberately small registry: counters, gauges and histograms with label sets.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((key) => `${key}="${escapeLabel(labels[key])}"`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge' | 'histogram') {}
  abstract render(): string[];
}

export class Counter extends Metric {
  private readonly values = new Map<string, number>();

  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }

  add(labels: Labels, amount = 1): void {
    if (amount <= 0) return;
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }

  get(labels: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.values].map(([key, value]) => `${this.name}${key ? `{${key}}` : ''} ${value}`);
  }
}

export class Gauge extends Metric {
  private readonly values = new Map<string, number | (() => number)>();

  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }

  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }

  /** Reads the value from a function at scrape time, such as a queue's current length. */
  track(labels: Labels, read: () => number): void {
    this.values.set(labelKey(labels), read);
  }

  get(labels: Labels): number {
    const value = this.values.get(labelKey(labels));
    return typeof value === 'function' ? value() : value ?? 0;
  }

  render(): string[] {
    return [...this.values].map(([key, value]) => `${this.name}${key ? `{${key}}` : ''} ${typeof value === 'function' ? value() : value}`);
  }
}

export class Histogram extends Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();

  /** `bounds` are the upper bounds of the buckets, ascending, in the metric's unit. */
  constructor(name: string, help: string, readonly bounds: number[]) {
    super(name, help, 'histogram');
  }

  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { counts: new Array(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) entry.counts[i]++;
    entry.sum += value;
    entry.count++;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const [key, entry] of this.series) {
      const prefix = key ? `${key},` : '';
      this.bounds.forEach((bound, i) => lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${entry.counts[i]}`));
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${entry.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ''} ${entry.sum}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ''} ${entry.count}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.getOrCreate(name, () => new Counter(name, help), Counter);
  }

  gauge(name: string, help: string): Gauge {
    return this.getOrCreate(name, () => new Gauge(name, help), Gauge);
  }

  histogram(name: string, help: string, bounds: number[]): Histogram {
    return this.getOrCreate(name, () => new Histogram(name, help, bounds), Histogram);
  }

  /** Adds lines produced elsewhere, such as per-route API metrics, to every scrape. */
  addCollector(collect: () => string): void {
    this.collectors.push(collect);
  }

  private readonly collectors: (() => string)[] = [];

  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics.values()) {
      lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`, ...metric.render());
    }
    let text = lines.join('\n') + '\n';
    for (const collect of this.collectors) text += collect();
    return text;
  }

  private getOrCreate<M extends Metric>(name: string, create: () => M, kind: new (...args: never[]) => M): M {
    const existing = this.metrics.get(name);
    if (existing) {
      if (!(existing instanceof kind)) throw new Error(`metric ${name} is already registered as a ${existing.type}`);
      return existing;
    }
    const metric = create();
    this.metrics.set(name, metric);
    return metric;
  }
}

/**
 * The metrics every pipeline component reports, named after the Collector's own
 * (`otelcol_receiver_accepted_spans` becomes `watchpost_receiver_accepted_items_total{signal="traces"}`).
 */
export class PipelineMetrics {
  readonly receiverAccepted: Counter;
  readonly receiverRefused: Counter;
  readonly receiverParseFailures: Counter;
  readonly processorIncoming: Counter;
  readonly processorOutgoing: Counter;
  readonly processorDropped: Counter;
  readonly exporterSent: Counter;
  readonly exporterSendFailed: Counter;
  readonly exporterEnqueueFailed: Counter;
  readonly exporterQueueSize: Gauge;
  readonly exporterQueueCapacity: Gauge;
  readonly workerFailures: Counter;
  readonly findingsEmitted: Counter;

  constructor(readonly registry: MetricsRegistry) {
    this.receiverAccepted = registry.counter('watchpost_receiver_accepted_items_total', 'Items a receiver accepted and passed on.');
    this.receiverRefused = registry.counter('watchpost_receiver_refused_items_total', 'Items a receiver refused, by reason.');
    this.receiverParseFailures = registry.counter('watchpost_receiver_parse_failures_total', 'Lines a receiver could not parse and passed on as raw records.');
    this.processorIncoming = registry.counter('watchpost_processor_incoming_items_total', 'Items that entered a processor.');
    this.processorOutgoing = registry.counter('watchpost_processor_outgoing_items_total', 'Items a processor passed on.');
    this.processorDropped = registry.counter('watchpost_processor_dropped_items_total', 'Items a processor dropped, by reason.');
    this.exporterSent = registry.counter('watchpost_exporter_sent_items_total', 'Items an exporter delivered.');
    this.exporterSendFailed = registry.counter('watchpost_exporter_send_failed_items_total', 'Items an exporter failed to deliver and dropped.');
    this.exporterEnqueueFailed = registry.counter('watchpost_exporter_enqueue_failed_items_total', 'Items an exporter could not queue.');
    this.exporterQueueSize = registry.gauge('watchpost_exporter_queue_size', 'Batches waiting in an exporter queue.');
    this.exporterQueueCapacity = registry.gauge('watchpost_exporter_queue_capacity', 'The maximum number of batches an exporter queue holds.');
    this.workerFailures = registry.counter('watchpost_worker_failures_total', 'Worker-pool tasks that failed or whose worker died.');
    this.findingsEmitted = registry.counter('watchpost_findings_emitted_total', 'Findings emitted by detection processors, by rule.');
  }
}
