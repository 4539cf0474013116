import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegistry, StartRegistry } from '../support/registry-under-test.js';
import { conformanceSpecs, DEFAULT_SETTINGS, runSpec, SuiteState, type ConformanceSettings, type SpecResult } from './suite.js';

/** How many specs the Go suite v1.1.1 runs with its default settings (the rest are skipped there too). */
export const SPECS_RUN_BY_GO_SUITE = 74;

/**
 * The OCI conformance suite (v1.1.1, ported) as vitest tests, one test per Go spec, in the suite's order,
 * against a registry `startRegistry` brings up. Every spec must pass.
 */
export function describeConformance(name: string, startRegistry: StartRegistry, settings: ConformanceSettings = DEFAULT_SETTINGS): void {
  describe(`OCI distribution-spec conformance v1.1.1: ${name}`, () => {
    let registry: RunningRegistry;
    let state: SuiteState;
    const results: SpecResult[] = [];

    beforeAll(async () => {
      registry = await startRegistry();
      state = new SuiteState(registry.url, settings);
    });
    afterAll(async () => {
      await registry?.close();
    });

    for (const spec of conformanceSpecs(settings)) {
      it(`${spec.workflow} › ${spec.context} › ${spec.title}`, async (context) => {
        const result = await runSpec(spec, state);
        results.push(result);
        if (result.outcome === 'skipped') context.skip();
        if (result.outcome === 'failed') throw new Error(`${spec.goName} (${spec.goFile}): ${result.error}`);
      });
    }

    it(`runs the ${SPECS_RUN_BY_GO_SUITE} specs the Go suite runs, and passes them all`, () => {
      const ran = results.filter((result) => result.outcome !== 'skipped');
      expect(ran).toHaveLength(SPECS_RUN_BY_GO_SUITE);
      expect(ran.filter((result) => result.outcome === 'failed').map((result) => result.spec.goName)).toEqual([]);
    });
  });
}
