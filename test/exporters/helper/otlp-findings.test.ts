import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, type ExportLogsServiceRequest } from '../../../core/otlp/codec.js';
import { anyValueToJs, findAttribute, nanosToMillis } from '../../../core/otlp/attributes.js';
import { findingsToLogsBatch, findingsToLogsRequest } from '../../../exporters/helper/otlp-findings.js';
import { findingsBatch, fixtureFindings } from '../harness.js';

const NOW = Date.parse('2026-12-04T12:00:00.000Z');

function decoded(): ExportLogsServiceRequest {
  return decodeRequest('logs', encodeRequest('logs', findingsToLogsRequest(fixtureFindings(), NOW))) as ExportLogsServiceRequest;
}

describe('findings as OTLP log records', () => {
  it('survives protobuf encoding with one record per finding', () => {
    const request = decoded();

    const resource = request.resourceLogs?.[0];
    expect(findAttribute(resource?.resource?.attributes, 'service.name')).toBe('watchpost');
    expect(resource?.scopeLogs?.[0].scope?.name).toBe('watchpost.detection');
    expect(resource?.scopeLogs?.[0].logRecords).toHaveLength(4);
  });

  it('maps time, severity, event name and body', () => {
    const [record] = decoded().resourceLogs?.[0].scopeLogs?.[0].logRecords ?? [];

    expect(nanosToMillis(record.timeUnixNano)).toBe(Date.parse('2026-12-04T10:00:03.250Z'));
    expect(nanosToMillis(record.observedTimeUnixNano)).toBe(NOW);
    expect(record.severityNumber).toBe(17);
    expect(record.severityText).toBe('high');
    expect(record.eventName).toBe('watchpost.finding');
    expect(findAttribute(record.attributes, 'watchpost.finding.summary')).toBe('SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api');
    const body = anyValueToJs(record.body) as Record<string, unknown>;
    expect(body.fingerprint).toBe(fixtureFindings()[0].fingerprint);
    expect((body.rule as Record<string, unknown>).id).toBe('sqli');
    expect(body).not.toHaveProperty('suppress_seconds');
  });

  it('links a finding to the trace of its first evidence sample', () => {
    const [withTrace, withoutTrace] = decoded().resourceLogs?.[0].scopeLogs?.[0].logRecords ?? [];

    expect(Buffer.from(withTrace.traceId ?? []).toString('hex')).toBe('5b8efff798038103d269b633813fc60c');
    expect(Buffer.from(withTrace.spanId ?? []).toString('hex')).toBe('eee19b7ec3c1b174');
    expect(withoutTrace.traceId?.length ?? 0).toBe(0);
  });

  it('uses semantic-convention attribute names', () => {
    const records = decoded().resourceLogs?.[0].scopeLogs?.[0].logRecords ?? [];
    const attribute = (index: number, key: string) => findAttribute(records[index].attributes, key);

    expect(attribute(0, 'client.address')).toBe('203.0.113.7');
    expect(attribute(0, 'http.request.method')).toBe('GET');
    expect(attribute(0, 'url.path')).toBe('/products');
    expect(attribute(0, 'http.route')).toBe('/products');
    expect(attribute(0, 'server.address')).toBe('shop.example.com');
    expect(attribute(0, 'user_agent.original')).toBe('sqlmap/1.7.2#stable (https://sqlmap.org)');
    expect(attribute(0, 'watchpost.rule.id')).toBe('sqli');
    expect(attribute(0, 'watchpost.rule.mitre_attack')).toBe('T1190');
    expect(attribute(0, 'watchpost.finding.fingerprint')).toBe(fixtureFindings()[0].fingerprint);
    expect(attribute(1, 'watchpost.finding.count')).toBe(412);
    expect(attribute(1, 'user.id')).toBe('eve=admin|root\\x');
    expect(attribute(3, 'watchpost.actor.api_key_fingerprint')).toBe('k1:9f86d081884c7d65');
    expect(attribute(2, 'client.address')).toBe('198.51.100.23');
    expect(attribute(2, 'watchpost.action.type')).toBeUndefined();
  });

  it('turns a findings batch into a logs batch', () => {
    const batch = findingsToLogsBatch(findingsBatch(fixtureFindings()), NOW);

    expect(batch.signal).toBe('logs');
    expect(batch.itemCount).toBe(4);
    expect(batch.toBytes().length).toBeGreaterThan(0);
  });
});
