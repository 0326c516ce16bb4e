/**
 * Identical concurrent requests share one execution: the first caller for a key runs the work, later callers
 * for the same key await the same promise until it settles. One process only; fleet-lease.ts extends it over
 * the workers of a cluster.
 */
export interface SingleFlight<T> {
  run(key: string, work: () => Promise<T>): Promise<{ value: T; shared: boolean }>;
  readonly size: number;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const inFlight = new Map<string, Promise<T>>();
  return {
    get size() {
      return inFlight.size;
    },
    async run(key, work) {
      const existing = inFlight.get(key);
      if (existing) return { value: await existing, shared: true };
      const p = work().finally(() => inFlight.delete(key));
      inFlight.set(key, p);
      return { value: await p, shared: false };
    },
  };
}
