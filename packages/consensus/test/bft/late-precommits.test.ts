/**
 * A validator slower than the others is not counted absent: its precommit reaches the certificate
 * the next block carries (each block's certificate of its parent: what staking's downtime window
 * and `cairn_bft_missed_signatures_total` count). On the in-process network with a manual clock,
 * validator 3's messages take longer than the others' to arrive:
 *  - it decides each height from the others' precommits before its own precommit step, and must
 *    precommit first (state-machine.ts `#decide`), its precommit then joining the proposer's
 *    certificate late (`#latePrecommit`), also when that proposer is itself;
 *  - when a height takes longer than the block time, the next proposer still waits for the missing
 *    precommits (its gather window, half the block time) instead of proposing at once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { decodeBftExtra, decodeWire } from '../../src/index.ts'
import { BftNetwork } from '../harness/bft-network.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

/** For heights 2..last of node 0's chain: which validator indices the block's parent certificate lacks. */
async function missing(n: BftNetwork, last: bigint): Promise<number[][]> {
  const out: number[][] = []
  for (let h = 2n; h <= last; h++) {
    const block = await n.nodes[0]?.chain.getBlockByNumber(h)
    const cert = decodeBftExtra(block?.header.extraData as Uint8Array).parentCertificate
    const signed = new Set(cert?.signatures.map((s) => s.validatorIndex))
    out.push([0, 1, 2, 3].filter((i) => !signed.has(i)))
  }
  return out
}

describe('late precommits', () => {
  it.each([
    ['heights shorter than the block time (1 s blocks; proposals reach it 150 ms late)', 1000, 150],
    ['heights longer than the block time (60 ms blocks; proposals reach it 65 ms late)', 60, 65],
  ])(
    '%s: every certificate holds all four',
    async (_name, blockTimeMs, slowMs) => {
      // Validator 3 takes longer than the others to validate each proposal (as on a loaded
      // machine): proposals reach it `slowMs` late, after the others' precommits, everything else in
      // 20 ms. It decides as they arrive, and precommits first.
      const slow = 3
      net = await BftNetwork.create({
        validators: 4,
        blockTimeMs,
        linkDelayMs: (_from, to, data) => (to === slow && decodeWire(data).kind === 'proposal' ? slowMs : 20),
      })
      await net.start()
      const N = 12n
      expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= N))).toBe(true)
      const lacks = await missing(net, N)
      // None lacks it from height 3 on (the first heights start together).
      expect(lacks.slice(2)).toEqual(lacks.slice(2).map(() => []))
    },
    60_000,
  )
})
