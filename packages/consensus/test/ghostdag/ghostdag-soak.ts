/**
 * The GhostDAG network simulator over many seeds and block rates (`npm run test:ghostdag-sim --
 * [from] [to] [seconds] [bps...]`, default seeds 1..10, 120 s, at 1, 5 and 10 blocks a second),
 * each with a 30% withholding attacker and 4 honest miners, delay up to 1 s, K from the paper's
 * bound, users sending 2 transfers a block: prints one line of figures per run and each failing seed, which replays alone.
 */
import { ghostdagDelta, ghostdagK } from '../../src/ghostdag/index.ts'
import { runDagSim } from './sim/dag-sim.ts'
import { blueSet, checkTransfers, executedHistory, maxBlueAnticone, Pasts, simStats } from './sim/invariants.ts'

const args = process.argv.slice(2).map(Number)
const [from = 1, to = 10, seconds = 120, ...rates] = args
const bpsList = rates.length > 0 ? rates : [1, 5, 10]
const DELAY = 1
let failed = 0
const started = Date.now()
for (const bps of bpsList) {
  const k = ghostdagK({ blocksPerSecond: bps, networkDelaySeconds: DELAY, delta: 0.01 })
  const delta = ghostdagDelta({ blocksPerSecond: bps, networkDelaySeconds: DELAY, k })
  for (let seed = from; seed <= to; seed++) {
    const t0 = Date.now()
    try {
      const r = runDagSim({
        seed,
        miners: 4,
        blocksPerSecond: bps,
        maxDelaySeconds: DELAY,
        k,
        seconds,
        txPerSecond: 2 * bps,
        accounts: 30,
        txPerBlock: 8,
        attacker: { share: 0.3, withholdFrom: seconds * 0.3, releaseAt: seconds * 0.6 },
      })
      const node = r.nodes[0]!
      const pasts = new Pasts(node.order, (h) => (h === r.genesis ? [] : r.blocks.get(h)!.parents))
      const s = simStats(r, pasts)
      const want = executedHistory(node)
      const errors = checkTransfers(node, r.genesisState)
      for (const n of r.nodes.slice(1)) {
        const got = executedHistory(n)
        if (got.stateRoot !== want.stateRoot || got.accepted.join() !== want.accepted.join()) {
          errors.push(`node ${n.id} diverged`)
        }
      }
      if (maxBlueAnticone(blueSet(node, node.bd.sink), pasts) > k) errors.push('the blue set is not a k-cluster')
      if (s.honestBlueRatio < 1 - delta) errors.push(`honest blue ratio ${s.honestBlueRatio} under 1 - ${delta}`)
      const payment = node.ex.chain
        .slice(1)
        .flatMap((c) => node.ex.acceptance(c)!.txs)
        .find((x) => x.tx.id === 'payment' && x.outcome.applied)
      if (!payment && r.doubleSpend!.acceptedAtRelease) errors.push("the attacker's double spend won after acceptance")
      console.log(
        JSON.stringify({
          bps,
          k,
          seed,
          blocks: s.blocks,
          honestBlueRatio: +s.honestBlueRatio.toFixed(4),
          withheldRedRatio: +s.withheldRedRatio.toFixed(4),
          meanMergeset: +s.meanMergeset.toFixed(2),
          maxReorgDepth: s.maxReorgDepth,
          maxFlipAgeSeconds: +s.maxFlipAge.toFixed(2),
          paymentAtRelease: r.doubleSpend!.acceptedAtRelease,
          doubleSpendWon: !payment,
          applied: s.applied,
          skipped: s.skipped,
          ms: Date.now() - t0,
        }),
      )
      if (errors.length > 0) throw new Error(`bps ${bps} seed ${seed}: ${errors.join('; ')}`)
    } catch (err) {
      failed++
      console.error((err as Error).message)
    }
  }
}
console.log(
  `${bpsList.length} rates × ${to - from + 1} seeds, ${seconds} s each: ${failed} failed, ${Date.now() - started} ms`,
)
process.exitCode = failed === 0 ? 0 : 1
