import type { Finding } from './data/finding.js';

export type FindingsListener = (findings: readonly Finding[]) => void;

/**
 * An in-process channel on which detection processors announce the findings they emit, for
 * components that react to findings outside the findings pipelines, such as the tail sampler's
 * `security` policy keeping traces of actors with active findings. Listeners run synchronously
 * and must not throw or block.
 */
export class FindingsBus {
  private readonly listeners = new Set<FindingsListener>();

  subscribe(listener: FindingsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(findings: readonly Finding[]): void {
    for (const listener of this.listeners) listener(findings);
  }
}
