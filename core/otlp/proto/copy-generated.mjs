// Copies the generated protobuf JavaScript next to the compiled TypeScript in dist/, because tsc
// compiles only .ts files.
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/core/otlp/generated', { recursive: true });
copyFileSync('core/otlp/generated/otlp.js', 'dist/core/otlp/generated/otlp.js');
