import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { type Common, ConsensusType } from '@ethereumjs/common'
import { Account } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { ChainErrorCode } from '../errors.ts'
import type { ChainStore } from '../store/store.ts'
import { headerAgainstParent } from './validate.ts'

/**
 * The proof-of-work era's rules, for importing chains that start before the merge (Ethereum's own
 * history, the execution-apis test chain): Ethash difficulty, uncles, block and uncle rewards.
 * The Ethash seal (mixHash and nonce against the DAG) is NOT verified: that needs the DAG, a
 * subsystem of its own; Cairn imports proof-of-work history from a source it trusts
 * (docs/genesis.md).
 */

/** At most this many uncles per block, from at most this many generations back. */
const MAX_UNCLES = 2
const UNCLE_GENERATIONS = 7

export function isProofOfWork(common: Common): boolean {
  return common.consensusType() === ConsensusType.ProofOfWork
}

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

/**
 * The uncle part of a proof-of-work block's rewards (the BlockBuilder credits the miner's base
 * reward, `minerReward` of the fork: 5, 3 or 2 ETH): each uncle's miner gets (8 − depth)/8 of the
 * base reward, the block's miner 1/32 of it per uncle. @ethereumjs/vm computes the same in
 * `runBlock` but exports neither its `calculateOmmerReward` nor `rewardAccount`.
 */
export async function creditUncleRewards(vm: VM, block: Block): Promise<void> {
  const uncles = block.uncleHeaders
  if (uncles.length === 0) return
  const reward = vm.common.param('minerReward')
  const credit = async (address: BlockHeader['coinbase'], amount: bigint) => {
    const account = (await vm.stateManager.getAccount(address)) ?? new Account()
    account.balance += amount
    await vm.evm.journal.putAccount(address, account)
  }
  for (const u of uncles) {
    const share = ((8n + u.number - block.header.number) * reward) / 8n
    if (share > 0n) await credit(u.coinbase, share)
  }
  await credit(block.header.coinbase, (reward / 32n) * BigInt(uncles.length))
}
