import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { ChainErrorCode } from '../errors.ts'
import type { ChainStore } from '../store/store.ts'
import { headerAgainstParent } from './validate.ts'

/**
 * The proof-of-work era's rules, for importing chains that start before the merge (Ethereum's own
 * history, the execution-apis test chain): Ethash difficulty and uncles (their rewards:
 * `../execution/pow-era.ts`).
 * The Ethash seal (mixHash and nonce against the DAG) is NOT verified: that needs the DAG, a
 * subsystem of its own; Cairn imports proof-of-work history from a source it trusts
 * (docs/genesis.md).
 */

/** At most this many uncles per block, from at most this many generations back. */
const MAX_UNCLES = 2
const UNCLE_GENERATIONS = 7

/**
 * Checks a proof-of-work block's difficulty (`ethashCanonicalDifficulty`, with each fork's bomb
 * delay) and its uncles as geth's ethash does: at most 2, none twice, none an ancestor or already
 * an uncle of one of the last 6 blocks, each the child of one of those ancestors (not of the
 * block's parent), and each a valid header against its own parent.
 */
export async function validateProofOfWork(block: Block, parent: Block, store: ChainStore): Promise<void> {
  const h = block.header
  const fail = (why: string) =>
    new CairnError(ChainErrorCode.BLOCK_INVALID, `block ${h.number} ${bytesToHex(block.hash())}: ${why}`, {
      fault: 'caller',
    })
  const difficulty = h.ethashCanonicalDifficulty(parent.header)
  if (h.difficulty !== difficulty) throw fail(`difficulty ${h.difficulty} is not the expected ${difficulty}`)
  if (block.uncleHeaders.length === 0) return
  if (block.uncleHeaders.length > MAX_UNCLES) throw fail(`${block.uncleHeaders.length} uncles, more than ${MAX_UNCLES}`)
  const ancestors = new Map<string, BlockHeader>()
  const seen = new Set<string>([bytesToHex(block.hash())])
  let cur: Block | undefined = parent
  for (let i = 0; i < UNCLE_GENERATIONS && cur; i++) {
    ancestors.set(bytesToHex(cur.hash()), cur.header)
    for (const u of cur.uncleHeaders) seen.add(bytesToHex(u.hash()))
    cur = cur.header.number === 0n ? undefined : await store.getBlock(cur.header.parentHash)
  }
  for (const uncle of block.uncleHeaders) {
    const hash = bytesToHex(uncle.hash())
    if (seen.has(hash)) throw fail(`uncle ${hash} is included twice`)
    seen.add(hash)
    if (ancestors.has(hash)) throw fail(`uncle ${hash} is an ancestor`)
    const uncleParent = ancestors.get(bytesToHex(uncle.parentHash))
    if (!uncleParent || bytesToHex(uncle.parentHash) === bytesToHex(h.parentHash)) {
      throw fail(`uncle ${hash} is not the child of one of the block's last ${UNCLE_GENERATIONS - 1} ancestors`)
    }
    const why = headerAgainstParent(uncle, uncleParent)
    if (why) throw fail(`uncle ${hash}: ${why}`)
    const expected = uncle.ethashCanonicalDifficulty(uncleParent)
    if (uncle.difficulty !== expected)
      throw fail(`uncle ${hash}: difficulty ${uncle.difficulty} is not the expected ${expected}`)
  }
}
