import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anchorRoot, checkAnchor } from '../../packages/reserves/src/anchor/anchor.ts'
import { decodeAnchor, encodeAnchor } from '../../packages/reserves/src/anchor/payload.ts'
import { buildTree } from '../../packages/reserves/src/tree/build.ts'
import { proofFor, rootOf } from '../../packages/reserves/src/tree/proof.ts'
import { verifyProof } from '../../packages/reserves/src/verifier/index.ts'
import { type StartedNode, startDevNode } from '../rpc/live-node.ts'

const currencies = [{ symbol: 'BTC', decimals: 8 }]

describe('anchoring roots on a real in-process Cairn node', () => {
  let node: StartedNode
  beforeAll(async () => {
    node = await startDevNode()
  })
  afterAll(async () => {
    await node?.close()
  })

  it('anchors a root and checks proofs against it; a different root is refused', async () => {
    const tree = buildTree(
      [
        { userId: 'alice', balances: [5n] },
        { userId: 'bob', balances: [7n] },
      ],
      { hash: 'sha256', currencies, minDepth: 3 },
    )
    const payload = { v: 1 as const, snapshotId: 'a1', hash: 'sha256' as const, currencies, root: rootOf(tree) }
    const from = node.accounts[0]!.address
    const rec = await anchorRoot(node.url, from, payload)
    expect(rec.chainId).toBe(1337)
    expect(rec.blockNumber).toBeGreaterThan(0)
    const proof = proofFor(tree, 'a1', 'alice')
    expect(verifyProof(proof).ok).toBe(true)
    expect(await checkAnchor(node.url, rec.txHash, proof)).toEqual({ ok: true, blockNumber: rec.blockNumber })

    // a proof from another tree (same users, other salts: another root) does not match the anchor
    const other = buildTree([{ userId: 'alice', balances: [5n] }], { hash: 'sha256', currencies, minDepth: 3 })
    const r = await checkAnchor(node.url, rec.txHash, proofFor(other, 'a1', 'alice'))
    expect(r.ok).toBe(false)
    const wrongSnap = await checkAnchor(node.url, rec.txHash, { ...proof, snapshotId: 'a2' })
    expect(wrongSnap).toMatchObject({ ok: false })
    const missing = await checkAnchor(node.url, `0x${'00'.repeat(32)}`, proof)
    expect(missing).toMatchObject({ ok: false })
  })

  it('payloads round-trip and non-anchors are refused', () => {
    const p = {
      v: 1 as const,
      snapshotId: 'x',
      hash: 'keccak256' as const,
      currencies,
      root: { hash: '0x00', balances: ['1'] },
    }
    expect(decodeAnchor(encodeAnchor(p))).toEqual(p)
    expect(decodeAnchor('0x')).toBeNull()
    expect(decodeAnchor('0xa9059cbb')).toBeNull()
    expect(decodeAnchor('0xzz')).toBeNull()
  })
})
