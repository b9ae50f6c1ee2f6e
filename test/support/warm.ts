import assert from 'node:assert/strict';
import type { OutboundDeps } from '../../src/protocol/registry.js';
import { WarmPoolRegistry } from '../../src/transport/warm-pool-registry.js';

/** A warm pool for a conformance run, and the suite hook that proves it was used. */
export interface TestWarmPool {
  /** the deps with the registry in (or unchanged when the pool is off) */
  readonly deps: OutboundDeps;
  readonly registry: WarmPoolRegistry | undefined;
  /** ConformanceSetup.releaseHeld: asserts hits, then closes the parked connections */
  releaseHeld(): void;
  close(): void;
}

/**
 * With `on`, a registry over `base.dialer` holding at least two connections once a proxy is
 * used (so the suite's later cases take warm ones) and at most four. `releaseHeld` asserts at
 * least `minHits` hits over all pools: the protocol header really rode a pre-handshaken
 * connection. With `on` false everything is a no-op and `deps` is `base`.
 */
export function testWarmPool(base: OutboundDeps, on: boolean, minHits = 2): TestWarmPool {
  const registry = on ? new WarmPoolRegistry({ log: base.log, dialer: base.dialer, defaults: { min: 2, max: 4 }, tuning: { tickMs: 50 } }) : undefined;
  return {
    deps: registry ? { ...base, warmPool: registry } : base,
    registry,
    releaseHeld() {
      if (!registry) return;
      const hits = registry.metrics().reduce((n, m) => n + m.hits, 0);
      registry.close();
      assert.ok(hits >= minHits, `warm hits ${hits}, expected at least ${minHits}`);
    },
    close: () => registry?.close(),
  };
}
