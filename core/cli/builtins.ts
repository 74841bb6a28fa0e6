/*
 * The composition root: the one list of built-in components. It is the only file under core/
 * that imports components; everything else in core/ reaches them through the registry.
 */
import { FactoryRegistry } from '../registry.js';
import { otlpReceiverFactory } from '../../receivers/otlp/factory.js';
import { gatewayLogReceiverFactory } from '../../receivers/gatewaylog/factory.js';
import { syslogReceiverFactory } from '../../receivers/syslog/factory.js';
import { detectionProcessorFactory } from '../../processors/detection/factory.js';
import { probabilisticSamplerFactory } from '../../processors/sampling/probabilistic_sampler/factory.js';
import { tailSamplingFactory } from '../../processors/sampling/tail_sampling/factory.js';
import { apiMetricsFactory } from '../../processors/apimetrics/factory.js';
import { batchProcessorFactory } from '../../processors/batch/factory.js';
import { redactionProcessorFactory } from '../../processors/redaction/factory.js';
import { memoryLimiterFactory } from '../../processors/memory_limiter/factory.js';
import { fileExporterFactory } from '../../exporters/file/factory.js';
import { debugExporterFactory } from '../../exporters/debug/factory.js';
import { webhookExporterFactory } from '../../exporters/webhook/factory.js';
import { otlpExporterFactory } from '../../exporters/otlp/factory.js';

export function builtinRegistry(): FactoryRegistry {
  return new FactoryRegistry().register(
    otlpReceiverFactory,
    gatewayLogReceiverFactory,
    syslogReceiverFactory,
    detectionProcessorFactory,
    probabilisticSamplerFactory,
    tailSamplingFactory,
    apiMetricsFactory,
    batchProcessorFactory,
    redactionProcessorFactory,
    memoryLimiterFactory,
    fileExporterFactory,
    debugExporterFactory,
    webhookExporterFactory,
    otlpExporterFactory,
  );
}

export { runRuleTests } from '../../processors/detection/testing.js';
export { rulesFor } from '../../processors/detection/factory.js';
