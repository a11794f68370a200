/**
 * The bridge simulator over many seeds (`npm run test:bridge-sim -- [from] [to] [shards] [steps]`,
 * default seeds 1..200 of 4 shards, 300 steps): prints each failing seed, which replays alone.
 */
import { runBridgeSim } from './bridge-sim.ts'

const [from = 1, to = 200, shards = 4, steps = 300] = process.argv.slice(2).map(Number)
let failed = 0
const started = Date.now()
for (let seed = from; seed <= to; seed++) {
  try {
    await runBridgeSim(seed, { shards, steps })
  } catch (err) {
    failed++
    console.error((err as Error).message)
  }
}
console.log(`${to - from + 1} seeds of ${shards} shards, ${steps} steps: ${failed} failed, ${Date.now() - started} ms`)
process.exitCode = failed === 0 ? 0 : 1
