// Many seeds of the jailed-restart simulation (jailed-restart-sim.ts), not in CI:
//   node --import tsx packages/consensus/test/staking/jailed-restart-soak.ts --seeds 50 [--from 0]
// Prints one line per seed (the phases it restarted in) and every violation with its replay command.
import { initCrypto } from '@cairn/crypto'
import { drawJailedRestart, replayJailedRestartCommand, runJailedRestart } from './jailed-restart-sim.ts'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}

await initCrypto()
const from = arg('from', 0)
const seeds = arg('seeds', 20)
let failed = 0
for (let seed = from; seed < from + seeds; seed++) {
  const s = drawJailedRestart(seed)
  const started = performance.now()
  const run = await runJailedRestart(s)
  const ms = Math.round(performance.now() - started)
  console.log(
    `seed ${seed}: epoch ${s.epochLength}, jailed at ${run.jailedAt}, restarts [${run.restarted}], ${ms} ms${run.violations.length > 0 ? ' FAILED' : ''}`,
  )
  if (run.violations.length > 0) {
    failed++
    for (const v of run.violations) console.log(`  ${v}`)
    console.log(`  replay: ${replayJailedRestartCommand(seed)}`)
  }
}
console.log(`${seeds - failed}/${seeds} clean`)
process.exitCode = failed > 0 ? 1 : 0
