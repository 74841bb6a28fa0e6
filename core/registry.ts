import type { ComponentKind, Factory } from './component.js';

/**
 * The component factories known to this build, by kind and type. core/ reaches components only
 * through this registry; the CLI fills it from the list of built-in components.
 */
export class FactoryRegistry {
  private readonly factories = new Map<string, Factory>();

  register(...factories: Factory[]): this {
    for (const factory of factories) {
      const key = `${factory.kind}:${factory.type}`;
      if (this.factories.has(key)) throw new Error(`${factory.kind} type "${factory.type}" is registered twice`);
      this.factories.set(key, factory);
    }
    return this;
  }

  get<K extends ComponentKind>(kind: K, type: string): Extract<Factory, { kind: K }> | undefined {
    return this.factories.get(`${kind}:${type}`) as Extract<Factory, { kind: K }> | undefined;
  }

  types(kind: ComponentKind): string[] {
    return [...this.factories.values()].filter((factory) => factory.kind === kind).map((factory) => factory.type).sort();
  }

  all(): Factory[] {
    return [...this.factories.values()];
  }
}
