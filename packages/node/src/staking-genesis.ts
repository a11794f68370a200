/**
 * A devnet's proof-of-stake genesis: the validators bonded in the staking contract at genesis
 * (`config.cairn.bft.staking`), the contracts' code and storage in `alloc`, each validator's
 * operator funded so it can send its own transactions (unjail, edit, withdraw commission).
 */
import { type StakingProfile, stakingGenesisAlloc, stakingParamsWith } from '@cairn/consensus'
import type { Hex } from 'viem'

const ETHER = 10n ** 18n

export interface StakingGenesisInput {
  chainId: bigint
  /** The validators' consensus addresses (each also its operator on a devnet). */
  validators: Hex[]
  /** Each validator's self-bond (wei). Default 1,000 coins. */
  selfBond?: bigint
  profile?: StakingProfile
  /** `staking.<name>=<value>` / `governance.<name>=<value>` over the profile. */
  params?: readonly string[]
  blockTimeMs: number
}

/** Adds staking to `genesis` (a geth-style object with `config` and `alloc`), in place. */
export async function addStakingGenesis(
  genesis: { config: Record<string, unknown>; alloc: Record<string, unknown>; gasLimit?: string },
  input: StakingGenesisInput,
): Promise<void> {
  const params = stakingParamsWith(input.profile ?? 'devnet', input.params ?? [])
  const selfBond = input.selfBond ?? 1000n * ETHER
  const alloc = await stakingGenesisAlloc({
    chainId: input.chainId,
    validators: input.validators.map((v) => ({ operator: v, consensus: v, selfBond, commissionBps: 1000 })),
    staking: params.staking,
    governance: params.governance,
    chain: {
      blockGasLimit: BigInt(genesis.gasLimit ?? '0x1c9c380'),
      minBaseFee: 0n,
      blockTimeMs: BigInt(input.blockTimeMs),
    },
  })
  for (const v of input.validators) genesis.alloc[v] = { balance: `0x${(100n * ETHER).toString(16)}` }
  Object.assign(genesis.alloc, alloc)
  genesis.config.cairn = { bft: { staking: true, blockTimeMs: input.blockTimeMs } }
}
