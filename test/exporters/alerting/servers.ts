import type { ServerResponse } from 'node:http';
import type { ReceivedRequest } from '../../helpers/http-sink.js';

/** Answers as the PagerDuty Events API v2 does on success: 202 with the dedup key. */
export function pagerDutyAccepted(request: ReceivedRequest, response: ServerResponse): void {
  const body = JSON.parse(request.body.toString('utf8')) as { dedup_key?: string };
  response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: body.dedup_key }));
}

/** Answers as the Opsgenie Alert API does on success: 202 with a request id. */
export function opsgenieAccepted(_request: ReceivedRequest, response: ServerResponse): void {
  response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'Request will be processed', took: 0.1, requestId: '43a29c5c-3dbf-4fa4-9c26-f4f71023e120' }));
}
