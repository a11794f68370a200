/**
 * A devnet's proof-of-stake genesis (`cairn devnet init`; tests that want the contracts on a dev
 * chain): the validators bonded in the staking contract at genesis
 * (`config.cairn.bft.staking`), the contracts' code and storage in `alloc`, each validator's
 * operator funded so it can send its own transactions (unjail, edit, withdraw commission).
 */
import type { Hex } from 'viem'
import type { SignatureScheme } from '../bft/pq/scheme.ts'
import { stakingGenesisAlloc } from './genesis.ts'
import { type StakingProfile, stakingParamsWith } from './params.ts'

const ETHER = 10n ** 18n

export interface StakingGenesisInput {
  chainId: bigint
  /** The validators' consensus addresses (each also its operator on a devnet, unless `operators`). */
  validators: Hex[]
  /**
   * Each validator's operator, in the order of `validators` (default: the consensus address). Under
   * ml-dsa-65 the consensus address is `pqAddress` of an ML-DSA key, which signs no transaction: the
   * operator is the validator's secp256k1 account.
   */
  operators?: Hex[]
  /** Each validator's self-bond (wei). Default 1,000 coins. */
  selfBond?: bigint
  profile?: StakingProfile
  /** `staking.<name>=<value>` / `governance.<name>=<value>` over the profile. */
  params?: readonly string[]
  blockTimeMs: number
  /** The consensus signature scheme (default secp256k1); hybrid / ml-dsa-65 need `pqPublicKeys`. */
  signatureScheme?: SignatureScheme
  /**
   * Each validator's ML-DSA-65 public key (hex), in the order of `validators`, registered in the
   * staking contract at genesis under a PQ scheme (under ml-dsa-65 each validator's address is
   * `pqAddress` of its key).
   */
  pqPublicKeys?: Hex[]
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
    validators: input.validators.map((v, i) => {
      const key = input.pqPublicKeys?.[i]
      return {
        operator: input.operators?.[i] ?? v,
        consensus: v,
        selfBond,
        commissionBps: 1000,
        ...(key !== undefined ? { pqPublicKey: key } : {}),
      }
    }),
    ...(input.signatureScheme !== undefined ? { signatureScheme: input.signatureScheme } : {}),
    staking: params.staking,
    governance: params.governance,
    chain: {
      blockGasLimit: BigInt(genesis.gasLimit ?? '0x1c9c380'),
      minBaseFee: 0n,
      blockTimeMs: BigInt(input.blockTimeMs),
    },
  })
  for (const v of input.operators ?? input.validators)
    genesis.alloc[v] = { balance: `0x${(100n * ETHER).toString(16)}` }
  Object.assign(genesis.alloc, alloc)
  const scheme = input.signatureScheme ?? 'secp256k1'
  genesis.config.cairn = {
    bft: {
      ...(scheme !== 'secp256k1' ? { signatureScheme: scheme } : {}),
      staking: true,
      blockTimeMs: input.blockTimeMs,
    },
  }
}
