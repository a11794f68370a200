/**
 * `npm run test:conformance [-- [--verbose] [--reference] [filter]]`: runs every conformance suite
 * (with `--reference`, against Cairn with every speed shim off), prints
 * `N passed, M failed` per suite (and, with --verbose, each failure and why) and exits 1 when a
 * suite passes fewer cases than its floor in floors.json (2 for bad arguments).
 */

import { summary } from './suite.ts'
import { floors, suites } from './suites.ts'

const args = process.argv.slice(2)
const verbose = args.includes('--verbose') || args.includes('-v')
const reference = args.includes('--reference')
const filter = args.find((a) => !a.startsWith('-'))
const floor = floors()
let below = 0
for (const suite of suites()) {
  if (!suite.present) {
    process.stdout.write(`${suite.name}: not in this checkout (conformance/${suite.name}/run.ts), not run\n`)
    continue
  }
  const r = await suite.run({ ...(filter === undefined ? {} : { filter }), ...(reference ? { reference } : {}) })
  if (verbose) {
    for (const f of r.failures) process.stdout.write(`  FAIL ${f.name}\n    ${f.why.replaceAll('\n', '\n    ')}\n`)
    for (const s of r.skipped) process.stdout.write(`  SKIP ${s.name}: ${s.why}\n`)
  }
  const min = floor[suite.name] ?? 0
  const verdict = filter !== undefined ? '' : r.passed < min ? ` (BELOW the floor of ${min})` : ` (floor ${min})`
  if (filter === undefined && r.passed < min) below++
  process.stdout.write(`${summary(r)}${verdict}\n`)
}
process.exit(below > 0 ? 1 : 0)
