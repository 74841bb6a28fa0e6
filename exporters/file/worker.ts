import type { WorkerModule } from '../../core/pool/worker-api.js';
import { logsToText } from './text.js';

/* Worker-thread side of the file exporter: the conversions that cost per record. */

export const tasks: WorkerModule['tasks'] = {
  'file.logs_to_text': (input: { bytes: Uint8Array }) => logsToText(input.bytes),
};
