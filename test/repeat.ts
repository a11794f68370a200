// `npm run test:repeat [-- RUNS [vitest args…]]`: runs the integration and e2e tiers RUNS times in a
// row (default 10) and prints, per run, its time and the tests that failed, then the total. A test
// that fails in any run is flaky (or broken): fix its cause; this script never retries.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

interface JsonReport {
  numFailedTests: number
  numPassedTests: number
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[]
}

const [runsArg, ...rest] = process.argv.slice(2)
const runs = runsArg === undefined ? 10 : Number(runsArg)
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`RUNS must be a positive integer, got ${runsArg}`)
  process.exit(2)
}
const tiers = rest.length > 0 ? rest : ['--project', 'integration', '--project', 'e2e']
const dir = mkdtempSync(join(tmpdir(), 'cairn-repeat-'))
const failures = new Map<string, number>()
let failedRuns = 0
for (let i = 1; i <= runs; i++) {
  const out = join(dir, `run-${i}.json`)
  const started = Date.now()
  const res = spawnSync('npx', ['vitest', 'run', ...tiers, '--reporter=json', `--outputFile=${out}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  let report: JsonReport | null = null
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as JsonReport
  } catch {
    // no report: vitest itself failed (exit code below)
  }
  const failed = (report?.testResults ?? []).flatMap((f) =>
    f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name}: ${a.fullName}`),
  )
  for (const name of failed) failures.set(name, (failures.get(name) ?? 0) + 1)
  if (res.status !== 0) failedRuns++
  console.log(
    `run ${i}/${runs}: ${seconds} s, ${report?.numPassedTests ?? '?'} passed, ${failed.length} failed` +
      (res.status !== 0 && failed.length === 0 ? ` (vitest exited ${res.status})` : ''),
  )
  for (const name of failed) console.log(`  failed: ${name}`)
}
rmSync(dir, { recursive: true, force: true })
console.log(`\n${runs} runs, ${failedRuns} with failures`)
for (const [name, n] of failures) console.log(`  ${n}/${runs}: ${name}`)
process.exit(failedRuns === 0 ? 0 : 1)
