/**
 * The BFT simulator over many seeds (default 100,000 from seed 0), printing progress and every
 * failing seed with the command that replays it. Exit code 1 when a seed fails.
 *
 *   npm run test:bft-soak -- [first] [count] [--secp256k1]
 *   node --import tsx packages/consensus/test/bft/soak.ts 0 100000
 */
import { initCrypto } from '@cairn/crypto'
import { replayCommand } from './sim/run.ts'
import { drawScenario } from './sim/scenario.ts'
import { simulate } from './sim/world.ts'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const first = Number(args[0] ?? 0)
const count = Number(args[1] ?? 100_000)
const signatures = process.argv.includes('--secp256k1') ? 'secp256k1' : 'fast'
await initCrypto()

const started = performance.now()
let failed = 0
let maxLivenessMs = 0
let maxRound = 0
let evidence = 0
let setChanges = 0
let joinedSignatures = 0
for (let seed = first; seed < first + count; seed++) {
  const r = simulate(drawScenario(seed), { signatures })
  maxLivenessMs = Math.max(maxLivenessMs, r.livenessMs)
  maxRound = Math.max(maxRound, r.maxRound)
  evidence += r.evidence
  setChanges += r.setChanges
  joinedSignatures += r.joinedSignatures
  if (r.violations.length > 0) {
    failed++
    console.log(`FAIL seed ${seed}: ${r.violations.join('; ')}\n  replay: ${replayCommand(seed)}`)
  }
  const done = seed - first + 1
  if (done % 1000 === 0 || done === count) {
    const s = (performance.now() - started) / 1000
    console.log(
      `${done}/${count} seeds, ${failed} failed, ${s.toFixed(0)} s; max liveness after healing ${maxLivenessMs} ms, max commit round ${maxRound}, evidence ${evidence}, validator-set changes ${setChanges}, signatures by joined validators ${joinedSignatures}`,
    )
  }
}
process.exitCode = failed > 0 ? 1 : 0
