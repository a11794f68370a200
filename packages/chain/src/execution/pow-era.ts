import type { Block, BlockHeader } from '@ethereumjs/block'
import { type Common, ConsensusType } from '@ethereumjs/common'
import { Account } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

// The proof-of-work era's execution, for chains that start before the merge: whether a fork is
// one, and the uncle rewards. Its header and uncle checks are `../import/pow.ts`.

/** Whether `common`'s fork runs proof of work. */
export function isProofOfWork(common: Common): boolean {
  return common.consensusType() === ConsensusType.ProofOfWork
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
