// Worker entry used only when Watchpost runs from its TypeScript sources (tests, tsx). Node 20
// workers ignore the parent's TypeScript loader, so this registers tsx in the worker before
// loading the real entry. Running from dist/ uses worker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./worker.ts');

export const ingest = worker.ingest;
export const task = worker.task;
