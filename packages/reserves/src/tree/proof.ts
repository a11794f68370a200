import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import { toHex } from '../verifier/hex.ts'
import type { ProofNode, ProofV1 } from '../verifier/proof.ts'
import { decodeBalances, U128_BYTES } from '../verifier/u128.ts'
import type { SumTree, TreeLevel } from './build.ts'

/** Node `i` of a level as it appears in a proof. */
export function nodeAt(level: TreeLevel, i: number, currencies: number): ProofNode {
  const w = currencies * U128_BYTES
  return {
    hash: toHex(level.hashes.subarray(i * 32, i * 32 + 32)),
    balances: decodeBalances(level.balances.subarray(i * w, (i + 1) * w)).map(String),
  }
}

/** The root of a tree: its hash and per-currency totals. */
export function rootOf(tree: SumTree): ProofNode {
  return nodeAt(tree.levels[tree.depth] as TreeLevel, 0, tree.currencies.length)
}

/** The inclusion proof (format v1) of one user. */
export function proofFor(tree: SumTree, snapshotId: string, userId: string): ProofV1 {
  const i = tree.byId.get(userId)
  if (i === undefined)
    throw new CairnError(ReservesErrorCode.USER_UNKNOWN, `user ${userId} is not in snapshot ${snapshotId}`, {
      fault: 'caller',
    })
  const u = tree.users[i]!
  const k = tree.currencies.length
  const path: ProofNode[] = []
  let idx = u.leafIndex
  for (let l = 0; l < tree.depth; l++) {
    path.push(nodeAt(tree.levels[l] as TreeLevel, idx ^ 1, k))
    idx >>= 1
  }
  return {
    version: 1,
    hash: tree.hash,
    snapshotId,
    currencies: tree.currencies.map((c) => ({ symbol: c.symbol, decimals: c.decimals })),
    userId,
    salt: toHex(u.salt),
    balances: Object.fromEntries(tree.currencies.map((c, j) => [c.symbol, String(u.balances[j])])),
    leafIndex: u.leafIndex,
    path,
    root: rootOf(tree),
  }
}
