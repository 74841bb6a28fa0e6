import { afterAll, describe, expect, it } from 'vitest';
import { InProcessWatchpost } from '../helpers/otlp.js';
import { tempDirectory } from '../helpers/tmp.js';

describe('admin readiness and liveness', () => {
  const temp = tempDirectory('watchpost-readiness-');
  let watchpost: InProcessWatchpost | undefined;
  afterAll(async () => {
    await watchpost?.service.shutdown();
    temp.cleanup();
  });

  it('reports not ready while receivers refuse, and stays live', async () => {
    watchpost = await InProcessWatchpost.start(`
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
exporters:
  debug: {}
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${temp.path} }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`);
    const admin = `http://${watchpost.service.adminAddress()}`;
    const get = async (path: string) => {
      const response = await fetch(`${admin}${path}`);
      return { status: response.status, body: await response.json() as Record<string, unknown> };
    };

    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });

    watchpost.service.admission.refuse('memory_limiter', 'memory in use 500 MiB is above the soft limit of 400 MiB');
    expect(await get('/readyz')).toEqual({ status: 503, body: { status: 'refusing', reason: 'memory in use 500 MiB is above the soft limit of 400 MiB' } });
    expect((await get('/healthz')).status).toBe(200);

    watchpost.service.admission.admit('memory_limiter');
    expect((await get('/readyz')).status).toBe(200);
  });
});
