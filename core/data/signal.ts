/** The four signals a pipeline can carry: the three OTLP signals and Watchpost's findings. */
export const SIGNALS = ['traces', 'metrics', 'logs', 'findings'] as const;
export type Signal = (typeof SIGNALS)[number];

/** The OTLP signals, whose data travels as OTLP export requests. */
export const TELEMETRY_SIGNALS = ['traces', 'metrics', 'logs'] as const;
export type TelemetrySignal = (typeof TELEMETRY_SIGNALS)[number];

export function isSignal(value: string): value is Signal {
  return (SIGNALS as readonly string[]).includes(value);
}

/** The word for one item of a signal, as metric labels and messages use it. */
export const ITEM_NOUN: Record<Signal, string> = {
  traces: 'spans',
  metrics: 'data points',
  logs: 'log records',
  findings: 'findings',
};
