import { ATTACKS_PER_REQUEST, buildTemplate, nextRequest, SPANS_PER_TRACE, TRACES_PER_REQUEST } from './payload.js';

/*
 * Sends OTLP/HTTP protobuf trace requests to URL from CONCURRENCY keep-alive connections for
 * SECONDS, as fast as the daemon responds or at SPANS_PER_SECOND when given, and prints one JSON
 * line with what was accepted.
 * usage: node --import tsx bench/sampling/generate.ts URL SECONDS CONCURRENCY [SPANS_PER_SECOND]
 */

const [url, secondsText = '10', concurrencyText = '16', rateText = '0'] = process.argv.slice(2);
const seconds = Number(secondsText);
const concurrency = Number(concurrencyText);
const template = buildTemplate();
const totals = { requests: 0, spans: 0, attackTraces: 0, refused: 0, failed: 0 };
const started = Date.now();
const deadline = started + seconds * 1000;
/** Milliseconds between request starts when paced; 0 sends as fast as the daemon responds. */
const interval = Number(rateText) > 0 ? (1000 * TRACES_PER_REQUEST * SPANS_PER_TRACE) / Number(rateText) : 0;
let scheduled = 0;

/** Waits for the next request's turn when the rate is paced. */
async function nextSlot(): Promise<void> {
  if (interval === 0) return;
  const due = started + scheduled++ * interval;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

async function client(): Promise<void> {
  while (Date.now() < deadline) {
    await nextSlot();
    if (Date.now() >= deadline) break;
    const body = nextRequest(template);
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      await response.arrayBuffer();
      if (response.status === 200) {
        totals.requests++;
        totals.spans += TRACES_PER_REQUEST * SPANS_PER_TRACE;
        totals.attackTraces += ATTACKS_PER_REQUEST;
      } else {
        totals.refused++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch {
      totals.failed++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, () => client()));
process.stdout.write(`${JSON.stringify({ ...totals, seconds: (Date.now() - started) / 1000 })}\n`);
