import { randomBytes } from 'node:crypto';

/** Returns a distinct client address per index, from the 198.18.0.0/15 benchmarking range (RFC 2544). */
export function attackerAddress(index: number): string {
  return `198.18.${(index >> 8) & 255}.${index & 255}`;
}

/**
 * Builds an OTLP/JSON traces request with one SERVER span carrying SQL injection in its query, from
 * the client address of `index`. The default rule pack raises one `sqli` finding per client
 * address, so every index gives its own finding.
 */
export function attackRequest(index: number, nowMs = Date.now()): string {
  const attribute = (key: string, value: string | number) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } });
  const span = {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: 'GET /products',
    kind: 2,
    startTimeUnixNano: String(BigInt(nowMs) * 1_000_000n),
    endTimeUnixNano: String(BigInt(nowMs + 3) * 1_000_000n),
    attributes: [
      attribute('http.request.method', 'GET'),
      attribute('url.path', '/products'),
      attribute('url.query', "id=1' OR '1'='1"),
      attribute('client.address', attackerAddress(index)),
      attribute('http.response.status_code', 200),
    ],
  };
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [attribute('service.name', 'shop-api')] },
      scopeSpans: [{ scope: { name: 'e2e' }, spans: [span] }],
    }],
  });
}

/** Posts one attack request; resolves to true when the daemon acknowledged it with 200. */
export async function sendAttack(endpoint: string, index: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: attackRequest(index) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
