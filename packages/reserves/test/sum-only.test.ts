// ePrint 2018/1139: a parent that commits only to the sum of its children lets a custodian show
// each user a sibling with a made-up split and so undercount liabilities. Proof format v1 commits
// to each child's hash AND sums; these tests show a sum-only tree is rejected.
import { describe, expect, it } from 'vitest'
import { buildTree } from '../src/tree/build.ts'
import { proofFor } from '../src/tree/proof.ts'
import { seededRandom } from '../src/tree/random.ts'
import { portableHash, toHex, U128_BYTES, verifyProof } from '../src/verifier/index.ts'
import { encodeBalances } from '../src/verifier/u128.ts'

const currencies = [{ symbol: 'BTC', decimals: 8 }]
const h = portableHash('sha256')

/** A "Maxwell" parent: H(0x03 ‖ hashL ‖ hashR ‖ (B_L + B_R)), committing to the total only. */
function sumOnlyParent(hl: Uint8Array, bl: bigint, hr: Uint8Array, br: bigint): Uint8Array {
  const b = encodeBalances([bl + br])
  const buf = new Uint8Array(1 + 64 + U128_BYTES)
  buf[0] = 0x03
  buf.set(hl, 1)
  buf.set(hr, 33)
  buf.set(b, 65)
  return h(buf)
}

describe('sum-only parents (ePrint 2018/1139)', () => {
  it('a tree whose parents commit only to sums is rejected by the verifier', () => {
    const entries = [
      { userId: 'a', balances: [5n] },
      { userId: 'b', balances: [7n] },
    ]
    const tree = buildTree(entries, { hash: 'sha256', currencies, random: seededRandom('x') })
    const lvl0 = tree.levels[0]!
    const leaf = (i: number) => lvl0.hashes.subarray(i * 32, i * 32 + 32)
    const root = sumOnlyParent(leaf(0), 0n, leaf(1), 0n)
    for (const e of entries) {
      const p = proofFor(tree, 's', e.userId)
      p.root.hash = toHex(root)
      const r = verifyProof(p)
      expect(r.ok).toBe(false)
      expect(r.reason).toMatch(/folds to/)
    }
  })

  it('the attack: showing each user a sibling with a smaller sum is caught because the parent hash binds it', () => {
    // Honest: a = 5, b = 7, total 12. The custodian wants to publish a total of 5 + 0 = 5 by telling a that b
    // has 0, and b that a has 0. With v1 the parent binds both children's sums, so neither lie verifies.
    const tree = buildTree(
      [
        { userId: 'a', balances: [5n] },
        { userId: 'b', balances: [7n] },
      ],
      { hash: 'sha256', currencies, random: seededRandom('y') },
    )
    for (const id of ['a', 'b']) {
      const p = proofFor(tree, 's', id)
      p.path[0]!.balances = ['0']
      p.root.balances = [p.balances.BTC as string]
      expect(verifyProof(p).ok).toBe(false)
    }
  })
})
