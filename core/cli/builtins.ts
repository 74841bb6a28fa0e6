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
import { splunkHecExporterFactory } from '../../exporters/siem/splunk_hec/factory.js';
import { elasticsearchExporterFactory } from '../../exporters/siem/elasticsearch/factory.js';
import { syslogExporterFactory } from '../../exporters/siem/syslog/factory.js';
import { ocsfExporterFactory } from '../../exporters/siem/ocsf/factory.js';
import { slackExporterFactory } from '../../exporters/alerting/slack/factory.js';
import { pagerDutyExporterFactory } from '../../exporters/alerting/pagerduty/factory.js';
import { opsgenieExporterFactory } from '../../exporters/alerting/opsgenie/factory.js';
import { alertmanagerExporterFactory } from '../../exporters/alerting/alertmanager/factory.js';
import { decisionsExporterFactory } from '../../exporters/enforcement/decisions/factory.js';
import { denyListExporterFactory } from '../../exporters/enforcement/deny_list/factory.js';

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
    splunkHecExporterFactory,
    elasticsearchExporterFactory,
    syslogExporterFactory,
    ocsfExporterFactory,
    slackExporterFactory,
    pagerDutyExporterFactory,
    opsgenieExporterFactory,
    alertmanagerExporterFactory,
    decisionsExporterFactory,
    denyListExporterFactory,
  );
}

export { runRuleTests } from '../../processors/detection/testing.js';
export { rulesFor } from '../../processors/detection/factory.js';
