// `npm run test:staking-sim -- --seeds N [--from S]`: the seeded staking simulation over many seeds,
// with a summary (runs, events by kind, violations) and the replay command of each failure.
import { initCrypto } from '@cairn/crypto'
import { drawStakingScenario, replayStakingCommand, runStakingScenario } from './staking-sim.ts'

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? dflt : Number(process.argv[i + 1])
}
const seeds = arg('seeds', 20)
const from = arg('from', 0)
await initCrypto()
const kinds = new Map<string, number>()
const failures: string[] = []
const started = Date.now()
for (let seed = from; seed < from + seeds; seed++) {
  const scenario = drawStakingScenario(seed)
  for (const e of scenario.events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1)
  const run = await runStakingScenario(scenario)
  if (run.violations.length > 0)
    failures.push(`seed ${seed}: ${run.violations.join('; ')}\n  replay: ${replayStakingCommand(seed)}`)
  process.stdout.write(`seed ${seed}: height ${run.height}, ${run.violations.length} violations\n`)
}
process.stdout.write(
  `\n${seeds} runs in ${Math.round((Date.now() - started) / 1000)} s; events: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; failed runs: ${failures.length}\n${failures.join('\n')}\n`,
)
process.exit(failures.length > 0 ? 1 : 0)
