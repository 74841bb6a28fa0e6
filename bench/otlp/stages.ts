import { parseArgs } from 'node:util';
import { countItems, decodeRequest, encodeRequest } from '../../core/otlp/codec.js';
import { attributeCounts, spliceAppendedAttributes } from '../../core/otlp/splice.js';
import { Rejections, removeInvalidItems } from '../../core/otlp/validate.js';
import { createDefaultConfig } from '../../processors/detection/config.js';
import { rulesFor } from '../../processors/detection/factory.js';
import { DetectionStage } from '../../processors/detection/worker.js';
import { encodeBatches } from './spans.js';

/*
 * `npx tsx bench/otlp/stages.ts` times the work one pool worker does per request of the OTLP
 * benchmark, in one thread and without the pool. It splits the work into decode, id validation,
 * detection and marking the matched spans. Marking is timed twice: by splicing into the bytes,
 * and by encoding the whole request as the pool did before splicing. Times are CPU microseconds
 * per span.
 */

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const rounds = Number(options.rounds);

const batches = encodeBatches(16);
const config = createDefaultConfig();
const stage = new DetectionStage({ rules: rulesFor(config), markAttribute: config.mark_attribute });
const totals = { decode: 0, validate: 0, detect: 0, splice: 0, encode: 0 };
let spans = 0;
let markedBatches = 0;

/** Returns the CPU time of this process in microseconds. */
function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

for (let round = 0; round < rounds; round++) {
  for (const bytes of batches) {
    let start = cpuMicros();
    const request = decodeRequest('traces', bytes);
    totals.decode += cpuMicros() - start;

    start = cpuMicros();
    removeInvalidItems('traces', request, new Rejections());
    const counts = attributeCounts('traces', request);
    totals.validate += cpuMicros() - start;

    start = cpuMicros();
    const output = stage.run('traces', request);
    totals.detect += cpuMicros() - start;

    if (output.modified) {
      markedBatches++;
      start = cpuMicros();
      spliceAppendedAttributes('traces', bytes, request, counts);
      totals.splice += cpuMicros() - start;
      start = cpuMicros();
      encodeRequest('traces', request);
      totals.encode += cpuMicros() - start;
    }
    spans += countItems('traces', request);
  }
}

const perSpan = (micros: number) => Math.round((micros / spans) * 100) / 100;
process.stdout.write(`${JSON.stringify({
  spans,
  batches_with_marks: markedBatches,
  cpu_us_per_span: {
    decode: perSpan(totals.decode),
    validate_ids: perSpan(totals.validate),
    detection_stage: perSpan(totals.detect),
    mark_by_splice: perSpan(totals.splice),
    mark_by_encoding_everything: perSpan(totals.encode),
  },
}, null, 2)}\n`);
