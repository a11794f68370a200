// fast-check for the coverage run: vitest.config.ts resolves `fast-check` to this file when coverage
// is on (`--coverage`), and it is fast-check itself with `fc.assert` running a quarter of each
// property's runs (at least one; the seed, the examples and the rest of the parameters as given).
// V8's block counters slow the properties' hot loops 2-3x; the full runs are not lost, as CI runs
// every property in full on Node 20 and 22 and only measures coverage on 24 (.ci/run).
import fc from '../node_modules/fast-check/lib/fast-check.js'

/** A property under coverage runs 1/COVERAGE_RUN_DIVISOR of its runs. */
export const COVERAGE_RUN_DIVISOR = 4

type Params = Parameters<typeof fc.assert>[1]

/** The runs a property asking for `numRuns` (fast-check's global setting, else 100, when none) makes here. */
export function scaledRuns(numRuns: number | undefined): number {
  const asked = numRuns ?? fc.readConfigureGlobal().numRuns ?? 100
  return Math.max(1, Math.ceil(asked / COVERAGE_RUN_DIVISOR))
}

const assert = ((property: Parameters<typeof fc.assert>[0], params?: Params) =>
  fc.assert(property as never, { ...params, numRuns: scaledRuns(params?.numRuns) } as never)) as typeof fc.assert

export default { ...fc, assert } as typeof fc
