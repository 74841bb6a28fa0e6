/*
 * Findings travel as OTLP log records through the mapping that every exporter shares; see
 * exporters/helper/otlp-findings.ts for the fields.
 */
export { FINDING_EVENT_NAME, findingsToLogsRequest as findingsToLogs } from '../helper/otlp-findings.js';
