/**
 * What every conformance suite reports. Each suite lives in its own folder (`rpc-compat/`,
 * `blockchain/`) with a `run.ts` that exports `run(opts)` returning a {@link SuiteResult}; the
 * folder also holds its vendored fixtures (gzipped), their licence notice and the script that
 * rebuilds them from the public repository.
 */
export interface SuiteFailure {
  /** The case's name as the upstream suite spells it (file and test name). */
  name: string
  /** What differed or why it was refused: enough to start debugging without re-running. */
  why: string
}

export interface SuiteResult {
  suite: string
  passed: number
  failed: number
  /** Cases not run, each with the reason (a skip is a bug to fix, so the list stays short). */
  skipped: SuiteFailure[]
  failures: SuiteFailure[]
  /** The names of the cases run (passed or failed), in order. */
  ran?: string[]
}

export interface SuiteOptions {
  /** Run only cases whose name contains this string. */
  filter?: string
  /** Where to write temporary datadirs (a fresh temporary directory by default). */
  workdir?: string
  /** Run Cairn in reference mode: every speed shim off (`--reference`, `ChainOptions.reference`). */
  reference?: boolean
  /** Run every k-th case only (the 1st, the k+1-th, …, in the suite's order): a deterministic sample. */
  every?: number
}

/** `N passed, M failed` as `npm run test:conformance` prints it per suite. */
export function summary(r: SuiteResult): string {
  const skipped = r.skipped.length > 0 ? `, ${r.skipped.length} skipped` : ''
  return `${r.suite}: ${r.passed} passed, ${r.failed} failed${skipped}`
}
