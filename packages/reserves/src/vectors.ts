import { buildTree, type LiabilityEntry } from './tree/build.ts'
import { nodeAt, proofFor, rootOf } from './tree/proof.ts'
import { seededRandom } from './tree/random.ts'
import { leafHash, nodeHash, paddingHash, userHash } from './verifier/encoding.ts'
import { type HashName, portableHash } from './verifier/hash.ts'
import { fromHex, toHex } from './verifier/hex.ts'
import type { Currency } from './verifier/proof.ts'
import { encodeBalances } from './verifier/u128.ts'

const CURRENCIES: Currency[] = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
  { symbol: 'USDT', decimals: 6 },
]

const USERS: LiabilityEntry[] = [
  { userId: 'alice@example.com', balances: [150_000_000n, 0n, 2_500_000_000n] },
  { userId: 'bob', balances: [0n, 3_000_000_000_000_000_000n, 0n] },
  { userId: 'carol-ü', balances: [1n, 1n, 1n] },
  { userId: 'dave', balances: [(1n << 127n) - 1n, 0n, 42n] },
]

/**
 * The test vectors of proof format v1, generated deterministically (seeded salts, padding and
 * order — never do that in production) so that other implementations can check byte for byte.
 * docs/reserves/vectors.json is this function's output; a test regenerates and compares it.
 */
export function generateVectors(): Record<string, unknown> {
  const out: Record<string, unknown> = {
    description: 'Cairn proof of liabilities, format v1: test vectors (seeded; do not reuse the seed in production)',
    primitives: {},
    snapshots: [],
  }
  const salt = fromHex(`0x${'11'.repeat(32)}`, 32) as Uint8Array
  const pad = fromHex(`0x${'22'.repeat(32)}`, 32) as Uint8Array
  const bal = encodeBalances([1n, 2n, 3n])
  for (const name of ['sha256', 'keccak256'] as HashName[]) {
    const h = portableHash(name)
    const uh = userHash(h, salt, 'alice@example.com')
    const leaf = leafHash(h, uh, bal)
    const padding = paddingHash(h, pad)
    ;(out.primitives as Record<string, unknown>)[name] = {
      salt: toHex(salt),
      userId: 'alice@example.com',
      userHash: toHex(uh),
      balances: ['1', '2', '3'],
      B: toHex(bal),
      leafHash: toHex(leaf),
      paddingRandom: toHex(pad),
      paddingHash: toHex(padding),
      nodeHashLeafPadding: toHex(nodeHash(h, leaf, bal, padding, encodeBalances([0n, 0n, 0n]))),
    }
    const tree = buildTree(USERS, {
      hash: name,
      currencies: CURRENCIES,
      minDepth: 3,
      random: seededRandom(`cairn-reserves-v1-vectors-${name}`),
      hashFn: h,
    })
    ;(out.snapshots as unknown[]).push({
      hash: name,
      snapshotId: `vectors-${name}`,
      minDepth: 3,
      currencies: CURRENCIES,
      depth: tree.depth,
      leaves: Array.from({ length: tree.levels[0]!.count }, (_, i) => {
        const u = tree.users.find((x) => x.leafIndex === i)
        return { index: i, ...(u ? { userId: u.userId } : { padding: true }), ...nodeAt(tree.levels[0]!, i, 3) }
      }),
      root: rootOf(tree),
      proofs: USERS.map((u) => proofFor(tree, `vectors-${name}`, u.userId)),
    })
  }
  return out
}
