import { readFileSync } from 'node:fs';
import type { ComponentKind, Factory } from '../component.js';
import type { FactoryRegistry } from '../registry.js';
import { isSignal, SIGNALS, type Signal } from '../data/signal.js';
import { childPath, formatIssue, parseConfigYaml, type ConfigIssue, type ConfigNode, type MapNode } from './node.js';
import { duration, endpoint, integer, list, mergeDefaults, object, ParseContext, record, string, unknownKey, type Infer } from './schema.js';
import { WatchpostError } from '../errors.js';

export interface ComponentConfig {
  id: string;
  type: string;
  factory: Factory;
  config: unknown;
  node: ConfigNode;
}

export interface PipelineConfig {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface ServiceConfig {
  file: string;
  /** Ids of components that are configured but invalid; pipelines may name them without a second error. */
  invalid: Set<string>;
  /**
   * Signals of the invalid components whose type is known, by `kind:id`, so a pipeline of another
   * signal that lists one is reported in the same run rather than after the first fix.
   */
  invalidSignals: Map<string, readonly string[]>;
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  pipelines: Map<string, PipelineConfig>;
  service: ServiceSettings;
}

const SECTIONS = ['receivers', 'processors', 'exporters', 'extensions'] as const;
const SECTION_KIND: Record<(typeof SECTIONS)[number], ComponentKind> = {
  receivers: 'receiver',
  processors: 'processor',
  exporters: 'exporter',
  extensions: 'extension',
};

const pipelineSchema = object({
  receivers: list(string()),
  processors: list(string()),
  exporters: list(string()),
});

const serviceSchema = object({
  pipelines: record(pipelineSchema),
  extensions: list(string()),
  admin: object({ endpoint: endpoint() }),
  telemetry: object({ logs: object({ level: string({ enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] }) }) }),
  worker_pool: object({
    threads: integer({ min: 0, max: 256 }),
    max_queue: integer({ min: 0 }),
  }),
  storage: object({ directory: string() }),
  shutdown_timeout: duration({ min: 0 }),
});

export interface ServiceSettings {
  admin: { endpoint: string };
  telemetry: { logs: { level: string } };
  /** Worker threads (0: one per core) and the tasks that may wait for a thread (0: 64 per thread). */
  worker_pool: { threads: number; max_queue: number };
  /** Where lmdb state lives; relative paths are relative to the working directory. */
  storage: { directory: string };
  /** How long shutdown waits for queues to drain, in milliseconds. */
  shutdown_timeout: number;
  extensions: string[];
}

export function defaultServiceSettings(): ServiceSettings {
  return {
    admin: { endpoint: '127.0.0.1:8888' },
    telemetry: { logs: { level: 'info' } },
    worker_pool: { threads: 0, max_queue: 0 },
    storage: { directory: './data' },
    shutdown_timeout: 10_000,
    extensions: [],
  };
}

/** Every problem of a config, raised by loadConfig so that nothing starts while any exists. */
export class ConfigError extends WatchpostError {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues[0]?.code ?? 'WP_ERR_CONFIG_READ', `invalid configuration:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates a config file; throws ConfigError listing every problem. */
export function loadConfigFile(file: string, registry: FactoryRegistry, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ code: 'WP_ERR_CONFIG_READ', path: '', file, line: 0, message: `cannot read the config file: ${(error as Error).message}` }]);
  }
  return loadConfigText(source, file, registry, env);
}

export function loadConfigText(source: string, file: string, registry: FactoryRegistry, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = parseConfigYaml(source, file, env);
  const context = new ParseContext();
  context.issues.push(...parsed.issues);
  const root = parsed.root;
  if (!root || root.kind !== 'map') {
    if (context.issues.length === 0) context.report({ path: '', file, line: root?.line ?? 0 }, 'WP_ERR_CONFIG_READ', 'the config must be a YAML map with receivers, processors, exporters and service');
    throw new ConfigError(context.issues);
  }
  const config = validateRoot(root, file, registry, context);
  if (context.issues.length > 0) throw new ConfigError(sortIssues(context.issues));
  return config;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.path.localeCompare(b.path));
}

function validateRoot(root: MapNode, file: string, registry: FactoryRegistry, context: ParseContext): ServiceConfig {
  for (const key of root.entries.keys()) {
    if (![...SECTIONS, 'service'].includes(key)) unknownKey(root, key, [...SECTIONS, 'service'], context);
  }
  const config: ServiceConfig = {
    file,
    invalid: new Set(),
    invalidSignals: new Map(),
    receivers: new Map(),
    processors: new Map(),
    exporters: new Map(),
    extensions: new Map(),
    pipelines: new Map(),
    service: defaultServiceSettings(),
  };
  for (const section of SECTIONS) {
    const node = root.entries.get(section);
    if (node) config[section] = validateSection(node, SECTION_KIND[section], registry, context, config);
  }
  const serviceNode = root.entries.get('service');
  if (!serviceNode) {
    context.report({ path: 'service', file, line: 0 }, 'WP_ERR_CONFIG_MISSING_KEY', 'missing the "service" section with at least one pipeline');
    return config;
  }
  const service = serviceSchema.parse(serviceNode, context) as Infer<typeof serviceSchema> | undefined;
  if (!service) {
    validatePipelinesAlone(serviceNode, config, context);
    return config;
  }
  const { pipelines, ...settings } = service;
  config.service = mergeDefaults(defaultServiceSettings(), settings);
  validatePipelines(serviceNode, pipelines ?? {}, config, context);
  return config;
}

/**
 * Checks the pipelines when another part of the service section is invalid, so that an unknown
 * key there does not hide references to components that are not configured. Their own schema
 * errors were reported with the section's, so this parse reports only into a scratch context.
 */
function validatePipelinesAlone(serviceNode: ConfigNode, config: ServiceConfig, context: ParseContext): void {
  const pipelinesNode = serviceNode.kind === 'map' ? serviceNode.entries.get('pipelines') : undefined;
  if (!pipelinesNode) return;
  const scratch = new ParseContext();
  const pipelines = record(pipelineSchema).parse(pipelinesNode, scratch) as Record<string, PipelineEntry> | undefined;
  if (pipelines && scratch.issues.length === 0) validatePipelines(serviceNode, pipelines, config, context);
}

const COMPONENT_ID = /^([a-z][a-z0-9_]*)(?:\/([^\s/]+))?$/;

function validateSection(node: ConfigNode, kind: ComponentKind, registry: FactoryRegistry, context: ParseContext, config: ServiceConfig): Map<string, ComponentConfig> {
  const invalid = config.invalid;
  const components = new Map<string, ComponentConfig>();
  if (node.kind === 'scalar' && node.value === null) return components;
  if (node.kind !== 'map') {
    context.invalid(node, `a map of ${kind} ids to their configs`);
    return components;
  }
  for (const [id, child] of node.entries) {
    const keyLine = node.keyLines.get(id) ?? node.line;
    const match = COMPONENT_ID.exec(id);
    if (!match) {
      context.report({ path: childPath(node.path, id), file: node.file, line: keyLine }, 'WP_ERR_CONFIG_BAD_ID',
        `invalid ${kind} id "${id}"; expected "type" or "type/name", with a lower_snake_case type and a name without "/" or spaces`);
      continue;
    }
    const type = match[1];
    const factory = registry.get(kind, type);
    if (!factory) {
      context.report({ path: childPath(node.path, id), file: node.file, line: keyLine }, 'WP_ERR_CONFIG_BAD_ID',
        `unknown ${kind} type "${type}"; known types: ${registry.types(kind).join(', ') || 'none'}`);
      invalid.add(id);
      continue;
    }
    const issuesBefore = context.issues.length;
    const parsed = factory.schema.parse(child, context);
    if (parsed === undefined || context.issues.length > issuesBefore) {
      invalid.add(id);
      config.invalidSignals.set(`${kind}:${id}`, factory.signals);
      continue;
    }
    const merged = mergeDefaults(factory.createDefaultConfig(), parsed);
    factory.validate?.(merged, (message, path) => {
      const target = path ? findNode(child, path) ?? child : child;
      context.report(target, 'WP_ERR_CONFIG_INVALID_VALUE', message);
    });
    components.set(id, { id, type, factory, config: merged, node: child });
  }
  return components;
}

/** Finds the node at a dotted path below `node`, for errors from cross-field checks. */
function findNode(node: ConfigNode, path: string): ConfigNode | undefined {
  let current: ConfigNode | undefined = node;
  for (const part of path.split('.')) {
    if (!current || current.kind !== 'map') return undefined;
    current = current.entries.get(part);
  }
  return current;
}

type PipelineEntry = Infer<typeof pipelineSchema>;

function validatePipelines(serviceNode: ConfigNode, pipelines: Record<string, PipelineEntry>, config: ServiceConfig, context: ParseContext): void {
  const pipelinesNode = serviceNode.kind === 'map' ? serviceNode.entries.get('pipelines') : undefined;
  if (!pipelinesNode || pipelinesNode.kind !== 'map' || pipelinesNode.entries.size === 0) {
    context.report(pipelinesNode ?? serviceNode, 'WP_ERR_CONFIG_MISSING_KEY', 'service.pipelines must define at least one pipeline');
    return;
  }
  for (const [id, entry] of Object.entries(pipelines)) {
    const node = pipelinesNode.entries.get(id) as ConfigNode;
    const signal = id.split('/')[0];
    if (!isSignal(signal) || !/^[a-z]+(?:\/[^\s/]+)?$/.test(id)) {
      context.report({ path: node.path, file: node.file, line: pipelinesNode.keyLines.get(id) ?? node.line }, 'WP_ERR_CONFIG_BAD_ID',
        `invalid pipeline id "${id}"; expected a signal (${SIGNALS.join(', ')}) optionally followed by "/name"`);
      continue;
    }
    const pipeline: PipelineConfig = {
      id,
      signal,
      receivers: entry.receivers ?? [],
      processors: entry.processors ?? [],
      exporters: entry.exporters ?? [],
    };
    checkReferences(pipeline, node, config, context);
    config.pipelines.set(id, pipeline);
  }
  checkConnectorSources(pipelinesNode, config, context);
}

function checkReferences(pipeline: PipelineConfig, node: ConfigNode, config: ServiceConfig, context: ParseContext): void {
  const listNode = (key: string, index: number): ConfigNode => {
    const listed = node.kind === 'map' ? node.entries.get(key) : undefined;
    return (listed?.kind === 'seq' ? listed.items[index] : listed) ?? node;
  };
  for (const key of ['receivers', 'exporters'] as const) {
    if (pipeline[key].length === 0) context.report(node, 'WP_ERR_CONFIG_MISSING_KEY', `pipeline "${pipeline.id}" must list at least one ${key.slice(0, -1)}`);
  }
  const seen = new Set<string>();
  pipeline.processors.forEach((id, index) => {
    if (seen.has(id)) context.report(listNode('processors', index), 'WP_ERR_CONFIG_INVALID_VALUE', `processor "${id}" is listed twice`);
    seen.add(id);
    checkReference(config.processors, 'processor', id, pipeline, listNode('processors', index), context, config);
  });
  pipeline.exporters.forEach((id, index) => checkReference(config.exporters, 'exporter', id, pipeline, listNode('exporters', index), context, config));
  pipeline.receivers.forEach((id, index) => {
    const target = listNode('receivers', index);
    const connector = config.processors.get(id);
    if (config.receivers.has(id) && pipeline.signal !== 'findings') {
      checkReference(config.receivers, 'receiver', id, pipeline, target, context, config);
    } else if (connector) {
      const emits = (connector.factory as { emits?: readonly Signal[] }).emits ?? [];
      if (!emits.includes(pipeline.signal)) {
        context.report(target, 'WP_ERR_CONFIG_INVALID_VALUE', `processor "${id}" does not emit ${pipeline.signal}, so pipeline "${pipeline.id}" cannot list it as a receiver`);
      } else if (pipeline.processors.includes(id)) {
        context.report(target, 'WP_ERR_CONFIG_INVALID_VALUE', `pipeline "${pipeline.id}" lists "${id}" both as a receiver and as a processor, which would loop`);
      }
    } else if (config.invalid.has(id)) {
      // Reported where the component is defined.
    } else if (pipeline.signal === 'findings') {
      context.report(target, 'WP_ERR_CONFIG_MISSING_REFERENCE', `findings pipeline "${pipeline.id}" lists "${id}" as a receiver, but no processor "${id}" is configured; a findings pipeline takes findings from a detection processor`);
    } else {
      checkReference(config.receivers, 'receiver', id, pipeline, target, context, config);
    }
  });
}

function checkReference(components: Map<string, ComponentConfig>, kind: string, id: string, pipeline: PipelineConfig, node: ConfigNode, context: ParseContext, config: ServiceConfig): void {
  const component = components.get(id);
  if (!component && config.invalid.has(id)) {
    // The component's own errors are reported where it is defined; the signal can be checked still.
    const signals = config.invalidSignals.get(`${kind}:${id}`);
    if (signals && !signals.includes(pipeline.signal)) {
      context.report(node, 'WP_ERR_CONFIG_INVALID_VALUE', `${kind} "${id}" does not support ${pipeline.signal}; it supports ${signals.join(', ')}`);
    }
    return;
  }
  if (!component) {
    const known = [...components.keys()];
    context.report(node, 'WP_ERR_CONFIG_MISSING_REFERENCE',
      `pipeline "${pipeline.id}" references ${kind} "${id}", which is not configured${known.length > 0 ? `; configured ${kind}s: ${known.join(', ')}` : ''}`);
    return;
  }
  if (!component.factory.signals.includes(pipeline.signal)) {
    context.report(node, 'WP_ERR_CONFIG_INVALID_VALUE', `${kind} "${id}" does not support ${pipeline.signal}; it supports ${component.factory.signals.join(', ')}`);
  }
}

/** A processor listed as a receiver (a connector) must run in some pipeline, or it would never see data. */
function checkConnectorSources(pipelinesNode: MapNode, config: ServiceConfig, context: ParseContext): void {
  const usedProcessors = new Set<string>();
  for (const pipeline of config.pipelines.values()) pipeline.processors.forEach((id) => usedProcessors.add(id));
  for (const pipeline of config.pipelines.values()) {
    for (const id of pipeline.receivers) {
      if (config.processors.has(id) && !config.receivers.has(id) && !usedProcessors.has(id)) {
        const node = pipelinesNode.entries.get(pipeline.id) ?? pipelinesNode;
        context.report(node, 'WP_ERR_CONFIG_MISSING_REFERENCE', `pipeline "${pipeline.id}" takes ${pipeline.signal} from "${id}", but no pipeline runs "${id}" as a processor`);
      }
    }
  }
}
